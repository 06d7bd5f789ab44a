package retrieval_test

import (
	"context"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/blevesearch/bleve/v2"

	"govlive/content"
	"govlive/content/contenttest"
	"govlive/retrieval"
)

func newNormalizer(t *testing.T) *retrieval.Normalizer {
	t.Helper()
	n, err := retrieval.NewNormalizer()
	if err != nil {
		t.Fatalf("NewNormalizer: %v", err)
	}
	return n
}

// openIndex opens an index (with a new Normalizer unless cfg has one) and
// closes it when the test ends.
func openIndex(t *testing.T, cfg retrieval.Config) *retrieval.Index {
	t.Helper()
	if cfg.Normalizer == nil {
		cfg.Normalizer = newNormalizer(t)
	}
	ix, err := retrieval.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := ix.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return ix
}

// openSampleIndex is an in-memory index over a fresh sample store.
func openSampleIndex(t *testing.T) (*retrieval.Index, *content.Store) {
	t.Helper()
	cs := contenttest.SampleStore(t)
	return openIndex(t, retrieval.Config{Source: cs}), cs
}

func search(t *testing.T, ix *retrieval.Index, q retrieval.Query) retrieval.Result {
	t.Helper()
	res, err := ix.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(%q): %v", q.Text, err)
	}
	return res
}

// hitIDs lists the ids of hits, in order.
func hitIDs(hits []retrieval.Hit) []string {
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.ID
	}
	return ids
}

// rankOf is the position of id among hits, -1 if absent.
func rankOf(hits []retrieval.Hit, id string) int {
	for i, h := range hits {
		if h.ID == id {
			return i
		}
	}
	return -1
}

func hitByID(hits []retrieval.Hit, id string) (retrieval.Hit, bool) {
	if i := rankOf(hits, id); i >= 0 {
		return hits[i], true
	}
	return retrieval.Hit{}, false
}

func topConfidence(hits []retrieval.Hit) float64 {
	if len(hits) == 0 {
		return 0
	}
	return hits[0].Confidence
}

// lastRevision is the id of the newest revision in the store.
func lastRevision(t *testing.T, cs *content.Store) int64 {
	t.Helper()
	var last int64
	for {
		revs, err := cs.RevisionsSince(context.Background(), last, 1000)
		if err != nil {
			t.Fatalf("RevisionsSince: %v", err)
		}
		if len(revs) == 0 {
			return last
		}
		last = revs[len(revs)-1].ID
	}
}

func putFAQ(t *testing.T, cs *content.Store, e content.FAQEntry) {
	t.Helper()
	changed, err := cs.PutFAQ(context.Background(), e, "test")
	if err != nil {
		t.Fatalf("PutFAQ(%s): %v", e.ID, err)
	}
	if !changed {
		t.Fatalf("PutFAQ(%s): changed false, want true", e.ID)
	}
}

func getFAQ(t *testing.T, cs *content.Store, id content.FAQID) content.FAQEntry {
	t.Helper()
	e, err := cs.FAQ(context.Background(), id)
	if err != nil {
		t.Fatalf("FAQ(%s): %v", id, err)
	}
	return e
}

func mustSync(t *testing.T, ix *retrieval.Index) int {
	t.Helper()
	n, err := ix.Sync(context.Background())
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return n
}

// A FAQ entry the sample pack does not have, on a topic (dog registration)
// no sample text mentions. The key terms of its two answers (宠物芯片,
// 狂犬疫苗) appear nowhere else either.
const (
	dogID       content.FAQID = "faq-test-dog-registration"
	dogQuestion               = "养狗要去哪里登记"
	dogAnswerV1               = "请携带宠物芯片植入证明到所在街道办理养犬登记。"
	dogAnswerV2               = "请携带狂犬疫苗接种凭证到所在街道办理养犬登记。"
	dogAnswerQ1               = "宠物芯片植入证明"
	dogAnswerQ2               = "狂犬疫苗接种凭证"
)

func dogEntry(answer string, status content.Status) content.FAQEntry {
	return content.FAQEntry{
		ID:       dogID,
		Category: "测试",
		Question: "养狗需要办理什么登记？",
		Similar:  []string{"狗狗登记在哪办"},
		Answer:   answer,
		Sources:  []content.DocID{"doc-hotline"},
		Updated:  content.Date{Year: 2026, Month: 3, Day: 1},
		Status:   status,
	}
}

// TestSearchSample runs the read-only search checks on one index over the
// sample pack (opening an index is most of a test's time under -race).
func TestSearchSample(t *testing.T) {
	t.Parallel()
	ix, cs := openSampleIndex(t)
	for _, g := range []struct {
		name string
		run  func(t *testing.T, ix *retrieval.Index, cs *content.Store)
	}{
		{"top FAQ", testTopFAQ},
		{"close pairs", testClosePairs},
		{"document only", testDocumentOnly},
		{"hit fields", testHitFields},
		{"out of scope", testOutOfScope},
		{"empty question", testEmptyQuestion},
		{"scope", testScope},
		{"synonym and canonical word", testSynonymAndCanonical},
	} {
		t.Run(g.name, func(t *testing.T) { g.run(t, ix, cs) })
	}
}

// testTopFAQ asks the sample pack questions the way viewers
// type them and checks the FAQ entry that answers.
func testTopFAQ(t *testing.T, ix *retrieval.Index, cs *content.Store) {
	tests := []struct {
		name string
		q    string
		want content.FAQID
		// within is how far down want may be: 1 for the top hit, 3 for a
		// borderline case (see its comment).
		within int
		// bug, if set, names a known defect that makes the case fail; the
		// case is skipped until it is fixed.
		bug string
	}{
		{name: "one word", q: "回放", want: "faq-live-replay", within: 1},
		{name: "short colloquial", q: "周末有人吗", want: "faq-weekend", within: 1},
		{name: "missed the stream", q: "没赶上直播能不能回看", want: "faq-live-replay", within: 1},
		{name: "colloquial mailing", q: "办完证能寄到家不", want: "faq-cert-mailing-free", within: 1},
		{name: "colloquial fraud", q: "有人收钱说能帮我加急办证", want: "faq-intermediary-fraud", within: 1},
		{name: "address typed wrong", q: "邮寄地址写错了能改吗", want: "faq-mailing-address-change", within: 1},
		{name: "lunch break", q: "政务大厅中午休息吗", want: "faq-extended-hours", within: 1},
		{name: "queue number on the phone", q: "排队取号可以在手机上取吗", want: "faq-queue-number", within: 1},
		// Borderline: only 上门办 links the question to the entry (0.21
		// against 0.16 for faq-home-visit-scope).
		{name: "home visit in plain words", q: "我妈腿脚不好，能派人上门办手续吗", want: "faq-home-visit-elderly", within: 3},
		{name: "traditional taxi", q: "計程車司機證要帶什麼", want: "faq-taxi-license-materials", within: 1},
		{name: "traditional ride-hailing", q: "網約車司機證怎麼申請", want: "faq-ridehail-license-materials", within: 1},
		{name: "traditional food cancel", q: "食品經營許可證要註銷怎麼辦", want: "faq-food-biz-cancel", within: 1},
		{name: "traditional mailing time", q: "證照郵寄幾天到", want: "faq-cert-mailing-time", within: 1},
		{name: "homophone 同城通半", q: "同城通半能办哪些事", want: "faq-tongcheng-scope", within: 1},
		{name: "homophone 码上读", q: "码上读怎么用", want: "faq-mashangdu", within: 1},
		{name: "full-width 12345", q: "打１２３４５能投诉政务中心吗", want: "faq-12345", within: 1},
		{name: "full-width years", q: "从业资格证６年到期怎么换", want: "faq-qualification-renewal", within: 1},
		// Borderline, and a weakness: 要准备哪些材料 (shared with the food
		// licence entry) outweighs the domain term 出租车; the taxi entry
		// is second.
		{name: "colloquial taxi with generic words", q: "开的士要准备哪些资料", want: "faq-taxi-license-materials", within: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.bug != "" {
				t.Skip("known bug: " + tt.bug)
			}
			res := search(t, ix, retrieval.Query{Text: tt.q, K: 5})
			r := rankOf(res.FAQ, string(tt.want))
			if r < 0 || r >= tt.within {
				t.Errorf("Search(%q): %s at rank %d (0-based, -1 absent) in %v, want within the top %d",
					tt.q, tt.want, r, hitIDs(res.FAQ), tt.within)
			}
		})
	}
}

// testClosePairs checks entries that differ by one word: each
// question must put its own entry first and the near neighbours below it.
func testClosePairs(t *testing.T, ix *retrieval.Index, cs *content.Store) {
	tests := []struct {
		name   string
		q      string
		want   content.FAQID
		others []content.FAQID
	}{
		{name: "food business new, not change or renewal", q: "头一回办食品经营许可，材料清单有哪些",
			want: "faq-food-biz-new-materials", others: []content.FAQID{"faq-food-biz-change", "faq-food-biz-renewal"}},
		{name: "food business change, not new or renewal", q: "食品经营许可证上法人换了咋变更",
			want: "faq-food-biz-change", others: []content.FAQID{"faq-food-biz-new-materials", "faq-food-biz-renewal"}},
		{name: "food business renewal, not new or change", q: "食品经营许可证快满五年了怎么续",
			want: "faq-food-biz-renewal", others: []content.FAQID{"faq-food-biz-new-materials", "faq-food-biz-change", "faq-food-prod-renewal"}},
		{name: "business cancel, not production", q: "不开饭店了，食品经营许可证要注销",
			want: "faq-food-biz-cancel", others: []content.FAQID{"faq-food-prod-cancel"}},
		{name: "production cancel, not business", q: "食品加工厂停产了，生产许可证怎么注销",
			want: "faq-food-prod-cancel", others: []content.FAQID{"faq-food-biz-cancel"}},
		{name: "business renewal, not production", q: "食品经营许可证到期续证",
			want: "faq-food-biz-renewal", others: []content.FAQID{"faq-food-prod-renewal"}},
		{name: "production renewal, not business", q: "食品生产许可证到期续证",
			want: "faq-food-prod-renewal", others: []content.FAQID{"faq-food-biz-renewal"}},
		{name: "cruising taxi, not ride-hailing", q: "办出租车司机证要交什么资料",
			want: "faq-taxi-license-materials", others: []content.FAQID{"faq-ridehail-license-materials"}},
		{name: "ride-hailing, not cruising taxi", q: "跑网约车要办证要带啥材料",
			want: "faq-ridehail-license-materials", others: []content.FAQID{"faq-taxi-license-materials"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := search(t, ix, retrieval.Query{Text: tt.q, K: 20})
			if len(res.FAQ) == 0 || res.FAQ[0].ID != string(tt.want) {
				t.Fatalf("Search(%q): top FAQ hits %v, want %s first", tt.q, hitIDs(res.FAQ), tt.want)
			}
			for _, o := range tt.others {
				if h, ok := hitByID(res.FAQ, string(o)); ok && h.Confidence >= res.FAQ[0].Confidence {
					t.Errorf("Search(%q): %s confidence %.3f, want below %s's %.3f",
						tt.q, o, h.Confidence, tt.want, res.FAQ[0].Confidence)
				}
			}
		})
	}
}

// testDocumentOnly asks what only a policy document says.
func testDocumentOnly(t *testing.T, ix *retrieval.Index, cs *content.Store) {
	tests := []struct {
		name      string
		q         string
		doc       content.DocID
		wantLabel string
	}{
		{name: "hotline staffed hours", q: "热线人工接听到几点", doc: "doc-hotline", wantLabel: "第二条"},
		{name: "call-back time", q: "坐席多久回电", doc: "doc-hotline", wantLabel: "第二条"},
		{name: "identity check", q: "身份核验核对证件号后几位", doc: "doc-hotline", wantLabel: "第五条"},
		{name: "recordings kept", q: "热线通话录音保存多久", doc: "doc-hotline", wantLabel: "第八条"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := cs.Document(context.Background(), tt.doc)
			if err != nil {
				t.Fatalf("Document(%s): %v", tt.doc, err)
			}
			res := search(t, ix, retrieval.Query{Text: tt.q, K: 3})
			var found *retrieval.Hit
			for i := range res.Docs {
				if res.Docs[i].Chunk != nil && res.Docs[i].Chunk.DocID == tt.doc {
					found = &res.Docs[i]
					break
				}
			}
			if found == nil {
				t.Fatalf("Search(%q): top document hits %v, want a chunk of %s", tt.q, hitIDs(res.Docs), tt.doc)
			}
			if got := found.Chunk.Label; got != tt.wantLabel {
				t.Errorf("chunk label: got %q, want %q", got, tt.wantLabel)
			}
			if got, want := found.Citation(), "《"+d.Title+"》"+tt.wantLabel; got != want {
				t.Errorf("Citation(): got %q, want %q", got, want)
			}
			// No FAQ entry answers this: the passage must be the more
			// confident answer.
			if c := topConfidence(res.FAQ); c >= found.Confidence {
				t.Errorf("top FAQ confidence %.3f (%v), want below the passage's %.3f", c, hitIDs(res.FAQ), found.Confidence)
			}
		})
	}
}

// testHitFields checks what every hit carries.
func testHitFields(t *testing.T, ix *retrieval.Index, cs *content.Store) {
	for _, q := range []string{"網約車司機證怎麼申請", "食品经营许可证到期续证", "热线人工接听到几点"} {
		t.Run(q, func(t *testing.T) {
			res := search(t, ix, retrieval.Query{Text: q, K: 4})
			if res.Mode != "lexical" {
				t.Errorf("Mode: got %q, want lexical (no embedder)", res.Mode)
			}
			if len(res.Warnings) != 0 {
				t.Errorf("Warnings: got %q, want none", res.Warnings)
			}
			if len(res.FAQ) == 0 || len(res.Docs) == 0 {
				t.Fatalf("got %d FAQ and %d document hits, want some of each", len(res.FAQ), len(res.Docs))
			}
			if len(res.FAQ) > 4 || len(res.Docs) > 4 {
				t.Errorf("got %d FAQ and %d document hits, want at most K=4 each", len(res.FAQ), len(res.Docs))
			}
			check := func(list string, hits []retrieval.Hit, kind retrieval.Kind) {
				t.Helper()
				for i, h := range hits {
					if h.Kind != kind {
						t.Errorf("%s[%d] %s: Kind %q, want %q", list, i, h.ID, h.Kind, kind)
					}
					if h.Confidence < 0 || h.Confidence > 1 || math.IsNaN(h.Confidence) {
						t.Errorf("%s[%d] %s: Confidence %v, want in [0,1]", list, i, h.ID, h.Confidence)
					}
					if i > 0 && h.Confidence > hits[i-1].Confidence {
						t.Errorf("%s[%d] %s: Confidence %v above the previous hit's %v", list, i, h.ID, h.Confidence, hits[i-1].Confidence)
					}
					if h.Fused <= 0 {
						t.Errorf("%s[%d] %s: Fused %v, want > 0", list, i, h.ID, h.Fused)
					}
					if h.Vector != 0 {
						t.Errorf("%s[%d] %s: Vector %v, want 0 without an embedder", list, i, h.ID, h.Vector)
					}
					for _, s := range h.Spans {
						if !strings.Contains(h.Matched, s) {
							t.Errorf("%s[%d] %s: span %q is not in the matched text %q", list, i, h.ID, s, h.Matched)
						}
					}
				}
			}
			check("FAQ", res.FAQ, retrieval.KindFAQ)
			check("Docs", res.Docs, retrieval.KindDoc)
			for _, h := range res.FAQ {
				if h.FAQ == nil || string(h.FAQ.ID) != h.ID || h.Chunk != nil {
					t.Errorf("FAQ hit %s: FAQ %v, Chunk %v; want the entry with that id and no chunk", h.ID, h.FAQ, h.Chunk)
				}
			}
			for _, h := range res.Docs {
				if h.Chunk == nil || h.FAQ != nil {
					t.Fatalf("document hit %s: Chunk %v, FAQ %v; want a chunk and no entry", h.ID, h.Chunk, h.FAQ)
				}
				if want := string(h.Chunk.DocID) + "#"; !strings.HasPrefix(h.ID, want) {
					t.Errorf("document hit id %q, want prefix %q", h.ID, want)
				}
				if h.Citation() != h.Chunk.Citation() || !strings.HasPrefix(h.Citation(), "《"+h.Chunk.Title+"》") {
					t.Errorf("document hit %s: Citation %q, want 《%s》 and the label", h.ID, h.Citation(), h.Chunk.Title)
				}
			}
			// The best hit of a good match says what matched.
			best := res.FAQ[0]
			if res.Docs[0].Confidence > best.Confidence {
				best = res.Docs[0]
			}
			if len(best.Spans) == 0 {
				t.Errorf("best hit %s (confidence %.3f): no Spans, want the shared runs", best.ID, best.Confidence)
			}
		})
	}
}

// testOutOfScope compares questions the center cannot answer with
// ones it can.
func testOutOfScope(t *testing.T, ix *retrieval.Index, cs *content.Store) {
	inScope := []string{"网约车驾驶员证申请材料", "周末有人吗", "证照邮寄多久能到"}
	outOfScope := []string{"明天天气怎么样", "今天股票涨了吗", "比特币能买吗", "推荐一部好看的电影"}
	minIn, minCov := 1.0, 1.0
	for _, q := range inScope {
		res := search(t, ix, retrieval.Query{Text: q})
		minIn = math.Min(minIn, topConfidence(res.FAQ))
		minCov = math.Min(minCov, res.Coverage)
	}
	for _, q := range outOfScope {
		t.Run(q, func(t *testing.T) {
			res := search(t, ix, retrieval.Query{Text: q})
			if got := topConfidence(res.FAQ); got >= minIn {
				t.Errorf("top FAQ confidence %.3f (%v), want below the lowest in-scope top confidence %.3f", got, hitIDs(res.FAQ), minIn)
			}
			if res.Coverage >= minCov {
				t.Errorf("Coverage %.3f, want below the lowest in-scope coverage %.3f", res.Coverage, minCov)
			}
		})
	}
}

// testEmptyQuestion: nothing to search for is no hits, not an error.
func testEmptyQuestion(t *testing.T, ix *retrieval.Index, cs *content.Store) {
	for _, tt := range []struct{ name, q string }{
		{"empty", ""},
		{"spaces", "  \t\n"},
		{"ideographic space", "\u3000\u3000"},
		{"full-width punctuation", "？？！！，。"},
		{"ellipsis and dashes", "……——"},
		{"emoji", "😀👍"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := ix.Search(context.Background(), retrieval.Query{Text: tt.q})
			if err != nil {
				t.Fatalf("Search(%q): %v, want no error", tt.q, err)
			}
			if len(res.FAQ) != 0 || len(res.Docs) != 0 {
				t.Errorf("Search(%q): FAQ %v, Docs %v; want no hits", tt.q, hitIDs(res.FAQ), hitIDs(res.Docs))
			}
		})
	}
}

// testScope checks the boost of items the current segment links.
func testScope(t *testing.T, ix *retrieval.Index, cs *content.Store) {
	ctx := context.Background()
	demo, err := cs.Session(ctx, "demo")
	if err != nil {
		t.Fatalf("Session(demo): %v", err)
	}
	linked := func(seg int, id content.FAQID) bool {
		for _, f := range demo.Segments[seg-1].FAQ {
			if f == id {
				return true
			}
		}
		return false
	}
	boost := retrieval.DefaultWeights.ScopeBoost
	tests := []struct {
		name    string
		q       string
		session content.SessionID
		segment int
		id      content.FAQID
		inScope bool
	}{
		{name: "linked from the segment", q: "头一回办食品经营许可，材料清单有哪些", session: "demo", segment: 1,
			id: "faq-food-biz-new-materials", inScope: true},
		{name: "linked, boost capped at 1", q: "食品經營許可證要註銷怎麼辦", session: "demo", segment: 3,
			id: "faq-food-biz-cancel", inScope: true},
		{name: "linked from another segment", q: "食品經營許可證要註銷怎麼辦", session: "demo", segment: 1,
			id: "faq-food-biz-cancel", inScope: false},
		{name: "segment 0 is no segment", q: "头一回办食品经营许可，材料清单有哪些", session: "demo", segment: 0,
			id: "faq-food-biz-new-materials", inScope: false},
		{name: "segment past the end", q: "头一回办食品经营许可，材料清单有哪些", session: "demo", segment: len(demo.Segments) + 1,
			id: "faq-food-biz-new-materials", inScope: false},
		{name: "unknown session", q: "头一回办食品经营许可，材料清单有哪些", session: "no-such-session", segment: 1,
			id: "faq-food-biz-new-materials", inScope: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.session == "demo" && tt.segment >= 1 && tt.segment <= len(demo.Segments) && linked(tt.segment, tt.id) != tt.inScope {
				t.Fatalf("sample demo segment %d links %s: %v, the case assumes %v", tt.segment, tt.id, !tt.inScope, tt.inScope)
			}
			plain, ok := hitByID(search(t, ix, retrieval.Query{Text: tt.q, K: 100}).FAQ, string(tt.id))
			if !ok {
				t.Fatalf("unscoped Search(%q): no hit for %s", tt.q, tt.id)
			}
			if plain.InScope {
				t.Errorf("unscoped hit %s: InScope true, want false", tt.id)
			}
			res := search(t, ix, retrieval.Query{Text: tt.q, Session: tt.session, Segment: tt.segment, K: 100})
			h, ok := hitByID(res.FAQ, string(tt.id))
			if !ok {
				t.Fatalf("scoped Search(%q): no hit for %s", tt.q, tt.id)
			}
			if h.InScope != tt.inScope {
				t.Errorf("InScope: got %v, want %v", h.InScope, tt.inScope)
			}
			want := plain.Confidence
			if tt.inScope {
				want = math.Min(1, plain.Confidence+boost)
			}
			if math.Abs(h.Confidence-want) > 1e-9 {
				t.Errorf("Confidence: got %.6f, want %.6f (unscoped %.6f, in scope %v)", h.Confidence, want, plain.Confidence, tt.inScope)
			}
		})
	}

	t.Run("linked items are always candidates", func(t *testing.T) {
		// A question about something else entirely still lists what the
		// segment links, in scope.
		seg := demo.Segments[0]
		res := search(t, ix, retrieval.Query{Text: "直播回放在哪看", Session: "demo", Segment: 1, K: 1000})
		for _, id := range seg.FAQ {
			h, ok := hitByID(res.FAQ, string(id))
			if !ok {
				t.Errorf("FAQ %s linked from segment 1: not among %d hits", id, len(res.FAQ))
				continue
			}
			if !h.InScope {
				t.Errorf("FAQ %s linked from segment 1: InScope false", id)
			}
		}
		docs := map[content.DocID]bool{}
		for _, h := range res.Docs {
			if h.InScope {
				docs[h.Chunk.DocID] = true
			}
		}
		for _, d := range seg.Docs {
			if !docs[d] {
				t.Errorf("document %s linked from segment 1: no chunk in scope among %d hits", d, len(res.Docs))
			}
		}
		for _, h := range res.FAQ {
			if h.InScope && !linked(1, content.FAQID(h.ID)) {
				t.Errorf("FAQ %s: InScope true, but segment 1 does not link it", h.ID)
			}
		}
	})
}

// TestSyncFAQ edits FAQ entries step by step and syncs after each step.
func TestSyncFAQ(t *testing.T) {
	t.Parallel()
	ix, cs := openSampleIndex(t)
	ctx := context.Background()
	base := ix.Stats()
	if base.Revision != lastRevision(t, cs) {
		t.Fatalf("after Open: Stats().Revision %d, want the last revision %d", base.Revision, lastRevision(t, cs))
	}
	renewal := getFAQ(t, cs, "faq-food-biz-renewal")
	cancel := getFAQ(t, cs, "faq-food-biz-cancel")

	// found reports whether a question's top FAQ hit is the dog entry.
	found := func(t *testing.T, q string) bool {
		t.Helper()
		res := search(t, ix, retrieval.Query{Text: q})
		return len(res.FAQ) > 0 && res.FAQ[0].ID == string(dogID)
	}
	steps := []struct {
		name        string
		change      func(t *testing.T)
		wantApplied int
		wantFAQ     int
		// Questions whose top hit must (not) be the dog entry after Sync.
		found, notFound []string
	}{
		{name: "nothing new", change: func(t *testing.T) {}, wantApplied: 0, wantFAQ: base.FAQ,
			notFound: []string{dogQuestion}},
		{name: "new entry", change: func(t *testing.T) { putFAQ(t, cs, dogEntry(dogAnswerV1, content.StatusPublished)) },
			wantApplied: 1, wantFAQ: base.FAQ + 1, found: []string{dogQuestion, dogAnswerQ1}, notFound: []string{dogAnswerQ2}},
		{name: "answer's key term changed", change: func(t *testing.T) { putFAQ(t, cs, dogEntry(dogAnswerV2, content.StatusPublished)) },
			wantApplied: 1, wantFAQ: base.FAQ + 1, found: []string{dogQuestion, dogAnswerQ2}, notFound: []string{dogAnswerQ1}},
		{name: "deleted", change: func(t *testing.T) {
			if err := cs.DeleteFAQ(ctx, dogID, "test"); err != nil {
				t.Fatalf("DeleteFAQ: %v", err)
			}
		}, wantApplied: 1, wantFAQ: base.FAQ, notFound: []string{dogQuestion, dogAnswerQ2}},
		{name: "back as a draft", change: func(t *testing.T) { putFAQ(t, cs, dogEntry(dogAnswerV2, content.StatusDraft)) },
			wantApplied: 1, wantFAQ: base.FAQ, notFound: []string{dogQuestion, dogAnswerQ2}},
		{name: "published again", change: func(t *testing.T) { putFAQ(t, cs, dogEntry(dogAnswerV2, content.StatusPublished)) },
			wantApplied: 1, wantFAQ: base.FAQ + 1, found: []string{dogQuestion, dogAnswerQ2}},
		{name: "draft of a published entry", change: func(t *testing.T) { putFAQ(t, cs, dogEntry(dogAnswerV2, content.StatusDraft)) },
			wantApplied: 1, wantFAQ: base.FAQ, notFound: []string{dogQuestion}},
		{name: "two entries in one sync", change: func(t *testing.T) {
			r, c := renewal, cancel
			r.Answer += "（已更新）"
			c.Answer += "（已更新）"
			putFAQ(t, cs, r)
			putFAQ(t, cs, c)
		}, wantApplied: 2, wantFAQ: base.FAQ},
		{name: "storing an unchanged entry records nothing", change: func(t *testing.T) {
			changed, err := cs.PutFAQ(ctx, getFAQ(t, cs, "faq-weekend"), "test")
			if err != nil || changed {
				t.Fatalf("PutFAQ(unchanged): changed %v, err %v; want false, nil", changed, err)
			}
		}, wantApplied: 0, wantFAQ: base.FAQ},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change(t)
			// Before Sync the index has not seen the change.
			if got := ix.Stats().Revision; st.wantApplied > 0 && got == lastRevision(t, cs) {
				t.Fatalf("before Sync: Stats().Revision %d is already the last revision", got)
			}
			if got := mustSync(t, ix); got != st.wantApplied {
				t.Errorf("Sync: applied %d revisions, want %d", got, st.wantApplied)
			}
			stats := ix.Stats()
			if want := lastRevision(t, cs); stats.Revision != want {
				t.Errorf("Stats().Revision: got %d, want %d", stats.Revision, want)
			}
			if stats.FAQ != st.wantFAQ {
				t.Errorf("Stats().FAQ: got %d, want %d", stats.FAQ, st.wantFAQ)
			}
			for _, q := range st.found {
				if !found(t, q) {
					t.Errorf("after Sync, Search(%q): %s is not the top hit", q, dogID)
				}
			}
			for _, q := range st.notFound {
				if found(t, q) {
					t.Errorf("after Sync, Search(%q): %s is the top hit, want it gone", q, dogID)
				}
			}
			if got := mustSync(t, ix); got != 0 {
				t.Errorf("second Sync: applied %d, want 0", got)
			}
		})
	}
	t.Run("found only after Sync", func(t *testing.T) {
		e := dogEntry(dogAnswerV2, content.StatusPublished)
		e.ID = "faq-test-dog-2"
		e.Question, e.Similar = "遛狗不拴绳会被罚款吗", nil
		putFAQ(t, cs, e)
		if res := search(t, ix, retrieval.Query{Text: "遛狗不拴绳"}); rankOf(res.FAQ, string(e.ID)) >= 0 {
			t.Errorf("before Sync: %s is already a hit", e.ID)
		}
		mustSync(t, ix)
		if res := search(t, ix, retrieval.Query{Text: "遛狗不拴绳"}); rankOf(res.FAQ, string(e.ID)) != 0 {
			t.Errorf("after Sync: hits %v, want %s first", hitIDs(res.FAQ), e.ID)
		}
	})
}

// TestSyncDocument edits one document: only its chunks change.
func TestSyncDocument(t *testing.T) {
	t.Parallel()
	ix, cs := openSampleIndex(t)
	ctx := context.Background()
	docs, _, err := cs.ListDocuments(ctx, content.DocumentFilter{}, content.Page{})
	if err != nil {
		t.Fatalf("ListDocuments: %v", err)
	}
	before := map[content.DocID][]retrieval.Chunk{}
	for _, d := range docs {
		before[d.ID] = ix.Chunks(d.ID)
		if len(before[d.ID]) == 0 {
			t.Fatalf("Chunks(%s): none", d.ID)
		}
	}
	const q = "热线有没有粤语方言坐席"
	if res := search(t, ix, retrieval.Query{Text: q, K: 1}); len(res.Docs) > 0 && res.Docs[0].Chunk.Label == "第十条" && res.Docs[0].Chunk.DocID == "doc-hotline" {
		t.Fatalf("before the edit: %s 第十条 already answers %q", "doc-hotline", q)
	}

	d, err := cs.Document(ctx, "doc-hotline")
	if err != nil {
		t.Fatalf("Document: %v", err)
	}
	const last = "第十条 本规范自2025年1月1日起施行。"
	if !strings.Contains(d.Body, last) {
		t.Fatalf("doc-hotline no longer ends with %q; update the test", last)
	}
	d.Body = strings.Replace(d.Body, last,
		"第十条 方言服务。热线在工作日提供粤语、客家话等方言坐席，来电按语音提示选择。\n\n第十一条 本规范自2025年1月1日起施行。", 1)
	if _, err := cs.PutDocument(ctx, d, "test"); err != nil {
		t.Fatalf("PutDocument: %v", err)
	}
	if got := mustSync(t, ix); got != 1 {
		t.Errorf("Sync: applied %d, want 1", got)
	}
	for _, dd := range docs {
		got := ix.Chunks(dd.ID)
		if dd.ID == d.ID {
			if len(got) != len(before[dd.ID])+1 {
				t.Errorf("Chunks(%s): %d chunks, want %d (one article more)", dd.ID, len(got), len(before[dd.ID])+1)
			}
			if lastChunk := got[len(got)-1]; lastChunk.Label != "第十一条" {
				t.Errorf("Chunks(%s): last label %q, want 第十一条", dd.ID, lastChunk.Label)
			}
			continue
		}
		if !reflect.DeepEqual(got, before[dd.ID]) {
			t.Errorf("Chunks(%s) changed, want it as before (only doc-hotline was edited)", dd.ID)
		}
	}
	res := search(t, ix, retrieval.Query{Text: q, K: 3})
	if len(res.Docs) == 0 || res.Docs[0].Chunk.DocID != d.ID || res.Docs[0].Chunk.Label != "第十条" {
		t.Errorf("after Sync, Search(%q): document hits %v, want doc-hotline 第十条 first", q, hitIDs(res.Docs))
	}
	if got := ix.Stats().Chunks; got != chunkCount(ix, docs) {
		t.Errorf("Stats().Chunks %d, want the sum of Chunks() %d", got, chunkCount(ix, docs))
	}
}

func chunkCount(ix *retrieval.Index, docs []content.Document) int {
	n := 0
	for _, d := range docs {
		n += len(ix.Chunks(d.ID))
	}
	return n
}

// addSynonyms appends a line to the stored synonyms file.
func addSynonyms(t *testing.T, cs *content.Store, line string) {
	t.Helper()
	ctx := context.Background()
	text, err := cs.LexiconFile(ctx, content.SynonymsFile)
	if err != nil {
		t.Fatalf("LexiconFile: %v", err)
	}
	changed, err := cs.PutLexiconFile(ctx, content.SynonymsFile, text+"\n"+line+"\n", "test")
	if err != nil || !changed {
		t.Fatalf("PutLexiconFile: changed %v, err %v; want true, nil", changed, err)
	}
}

// 录播 (a recording) is a word the sample never uses; the synonym line
// makes it mean 回放.
const (
	synonymLine  = "回放 录播"
	synonymQuery = "录播在哪里看"
)

// TestSyncLexicon adds a synonym pair: a question using the new word finds
// the entry after Sync.
func TestSyncLexicon(t *testing.T) {
	t.Parallel()
	ix, cs := openSampleIndex(t)
	if res := search(t, ix, retrieval.Query{Text: synonymQuery}); len(res.FAQ) > 0 && res.FAQ[0].ID == "faq-live-replay" {
		t.Fatalf("before the synonym: %q already finds faq-live-replay first", synonymQuery)
	}
	addSynonyms(t, cs, synonymLine)
	if got := mustSync(t, ix); got != 1 {
		t.Errorf("Sync: applied %d, want 1", got)
	}
	if got, want := ix.Stats().Revision, lastRevision(t, cs); got != want {
		t.Errorf("Stats().Revision: got %d, want %d", got, want)
	}
	res := search(t, ix, retrieval.Query{Text: synonymQuery})
	if !strings.Contains(res.Query, "回放") {
		t.Errorf("analysed question %q, want 录播 made 回放", res.Query)
	}
	if len(res.FAQ) == 0 || res.FAQ[0].ID != "faq-live-replay" {
		t.Errorf("after Sync, Search(%q): %v, want faq-live-replay first", synonymQuery, hitIDs(res.FAQ))
	}
	if got := mustSync(t, ix); got != 0 {
		t.Errorf("second Sync: applied %d, want 0", got)
	}
}

// TestSyncConcurrentSearch searches while content changes and syncs run
// (for the race detector), then checks the final state.
func TestSyncConcurrentSearch(t *testing.T) {
	t.Parallel()
	ix, cs := openSampleIndex(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, q := range []string{"周末有人吗", dogQuestion, synonymQuery, "热线人工接听到几点"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if _, err := ix.Search(context.Background(), retrieval.Query{Text: q}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i, answer := range []string{dogAnswerV1, dogAnswerV2, dogAnswerV1} {
		putFAQ(t, cs, dogEntry(answer, content.StatusPublished))
		if i == 1 {
			addSynonyms(t, cs, synonymLine)
		}
		if _, err := ix.Sync(ctx); err != nil {
			t.Errorf("Sync %d: %v", i, err)
		}
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Search during Sync: %v", err)
	}
	if res := search(t, ix, retrieval.Query{Text: dogAnswerQ1}); len(res.FAQ) == 0 || res.FAQ[0].ID != string(dogID) {
		t.Errorf("Search(%q) after the syncs: %v, want %s first", dogAnswerQ1, hitIDs(res.FAQ), dogID)
	}
	if res := search(t, ix, retrieval.Query{Text: synonymQuery}); len(res.FAQ) == 0 || res.FAQ[0].ID != "faq-live-replay" {
		t.Errorf("Search(%q) after the syncs: %v, want faq-live-replay first", synonymQuery, hitIDs(res.FAQ))
	}
}

// openClose opens an index on dir and closes it again.
func openClose(t *testing.T, cfg retrieval.Config) {
	t.Helper()
	if cfg.Normalizer == nil {
		cfg.Normalizer = newNormalizer(t)
	}
	ix, err := retrieval.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := ix.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestPersistCatchUp changes content while the index is closed: reopened
// on the same directory, it catches up from the revisions.
func TestPersistCatchUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cs := contenttest.SampleStore(t)
	dir := t.TempDir()
	putFAQ(t, cs, dogEntry(dogAnswerV1, content.StatusPublished))
	openClose(t, retrieval.Config{Dir: dir, Source: cs})

	// While closed: the dog entry's answer changes, a new entry comes, a
	// second new entry comes and goes.
	putFAQ(t, cs, dogEntry(dogAnswerV2, content.StatusPublished))
	leash := dogEntry("请牵绳。", content.StatusPublished)
	leash.ID, leash.Question, leash.Similar = "faq-test-leash", "遛狗不拴绳会被罚款吗", nil
	putFAQ(t, cs, leash)
	gone := leash
	gone.ID, gone.Question = "faq-test-gone", "猫咪需要办理登记吗"
	putFAQ(t, cs, gone)
	if err := cs.DeleteFAQ(ctx, gone.ID, "test"); err != nil {
		t.Fatalf("DeleteFAQ: %v", err)
	}

	ix := openIndex(t, retrieval.Config{Dir: dir, Source: cs})
	if got, want := ix.Stats().Revision, lastRevision(t, cs); got != want {
		t.Errorf("Stats().Revision: got %d, want the last revision %d", got, want)
	}
	tests := []struct {
		q      string
		want   content.FAQID // the top hit, if set
		absent content.FAQID // not a hit at all, if set
	}{
		{q: "遛狗不拴绳", want: leash.ID},
		{q: dogAnswerQ2, want: dogID},
		{q: dogAnswerQ1, absent: dogID},
		{q: "猫咪需要登记吗", absent: gone.ID},
		{q: "周末有人吗", want: "faq-weekend"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			res := search(t, ix, retrieval.Query{Text: tt.q, K: 100})
			if tt.want != "" && rankOf(res.FAQ, string(tt.want)) != 0 {
				t.Errorf("Search(%q): %v, want %s first", tt.q, hitIDs(res.FAQ), tt.want)
			}
			if tt.absent != "" && rankOf(res.FAQ, string(tt.absent)) >= 0 {
				t.Errorf("Search(%q): %s is a hit, want it absent", tt.q, tt.absent)
			}
		})
	}
	if got := mustSync(t, ix); got != 0 {
		t.Errorf("Sync right after Open: applied %d, want 0", got)
	}
}

// TestPersistLexiconChange changes the synonyms while the index is closed.
func TestPersistLexiconChange(t *testing.T) {
	t.Parallel()
	cs := contenttest.SampleStore(t)
	dir := t.TempDir()
	openClose(t, retrieval.Config{Dir: dir, Source: cs})
	addSynonyms(t, cs, synonymLine)
	ix := openIndex(t, retrieval.Config{Dir: dir, Source: cs})
	if res := search(t, ix, retrieval.Query{Text: synonymQuery}); len(res.FAQ) == 0 || res.FAQ[0].ID != "faq-live-replay" {
		t.Errorf("Search(%q): %v, want faq-live-replay first", synonymQuery, hitIDs(res.FAQ))
	}
	if got, want := ix.Stats().Revision, lastRevision(t, cs); got != want {
		t.Errorf("Stats().Revision: got %d, want %d", got, want)
	}
}

// TestPersistRebuildsOutdatedFormat opens a directory whose lexical index
// carries another format marker and has lost its documents: Open must
// rebuild it rather than trust it.
func TestPersistRebuildsOutdatedFormat(t *testing.T) {
	t.Parallel()
	cs := contenttest.SampleStore(t)
	dir := t.TempDir()
	openClose(t, retrieval.Config{Dir: dir, Source: cs})

	path := filepath.Join(dir, "lexical.bleve")
	const oldFormat = "govlive-lexical-0"
	idx, err := bleve.Open(path)
	if err != nil {
		t.Fatalf("bleve.Open(%s): %v", path, err)
	}
	for {
		res, err := idx.Search(&bleve.SearchRequest{Query: bleve.NewMatchAllQuery(), Size: 1000})
		if err != nil {
			t.Fatalf("match all: %v", err)
		}
		if len(res.Hits) == 0 {
			break
		}
		b := idx.NewBatch()
		for _, h := range res.Hits {
			b.Delete(h.ID)
		}
		if err := idx.Batch(b); err != nil {
			t.Fatalf("delete: %v", err)
		}
	}
	if err := idx.SetInternal([]byte("format"), []byte(oldFormat)); err != nil {
		t.Fatalf("SetInternal: %v", err)
	}
	if err := idx.Close(); err != nil {
		t.Fatalf("close bleve: %v", err)
	}

	ix, err := retrieval.Open(context.Background(), retrieval.Config{Dir: dir, Source: cs, Normalizer: newNormalizer(t)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	res, err := ix.Search(context.Background(), retrieval.Query{Text: "周末有人吗"})
	if err != nil {
		t.Errorf("Search: %v", err)
	} else if len(res.FAQ) == 0 || res.FAQ[0].ID != "faq-weekend" {
		t.Errorf("Search(周末有人吗): %v, want faq-weekend first (the emptied index rebuilt)", hitIDs(res.FAQ))
	}
	if err := ix.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	idx, err = bleve.Open(path)
	if err != nil {
		t.Fatalf("bleve.Open(%s) after the rebuild: %v", path, err)
	}
	defer func() {
		if err := idx.Close(); err != nil {
			t.Errorf("close bleve: %v", err)
		}
	}()
	format, err := idx.GetInternal([]byte("format"))
	if err != nil {
		t.Fatalf("GetInternal(format): %v", err)
	}
	if len(format) == 0 || string(format) == oldFormat {
		t.Errorf("format marker after the rebuild: got %q, want the current one", format)
	}
}

// TestPersistChunkCharsChange reopens a directory with another chunk size:
// search must agree with an index built fresh with that size.
func TestPersistChunkCharsChange(t *testing.T) {
	t.Parallel()
	cs := contenttest.SampleStore(t)
	dir := t.TempDir()
	openClose(t, retrieval.Config{Dir: dir, Source: cs})
	reopened := openIndex(t, retrieval.Config{Dir: dir, Source: cs, ChunkChars: 100})
	fresh := openIndex(t, retrieval.Config{Source: cs, ChunkChars: 100})
	for _, q := range []string{"身份核验核对证件号后几位", "热线通话录音保存多久"} {
		got := search(t, reopened, retrieval.Query{Text: q, K: 3})
		want := search(t, fresh, retrieval.Query{Text: q, K: 3})
		if !reflect.DeepEqual(hitIDs(got.Docs), hitIDs(want.Docs)) {
			t.Errorf("Search(%q) document hits: got %v, want %v as from a fresh index", q, hitIDs(got.Docs), hitIDs(want.Docs))
		}
	}
}

// testSynonymAndCanonical: a synonym and its canonical
// word must give the same analysed question.
func testSynonymAndCanonical(t *testing.T, ix *retrieval.Index, cs *content.Store) {
	tests := []struct {
		name, canonical, synonym string
		bug                      string
	}{
		{name: "taxi", canonical: "出租车驾驶员证", synonym: "的士司机证"},
		{name: "ride-hailing", canonical: "网约车", synonym: "网约出租车"},
		{name: "food licence", canonical: "食品经营许可证", synonym: "食品证"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.bug != "" {
				t.Skip("known bug: " + tt.bug)
			}
			a := search(t, ix, retrieval.Query{Text: tt.canonical}).Query
			b := search(t, ix, retrieval.Query{Text: tt.synonym}).Query
			if a != b {
				t.Errorf("analysed %q → %q, %q → %q; want the same", tt.canonical, a, tt.synonym, b)
			}
		})
	}
}
