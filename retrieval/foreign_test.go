package retrieval_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"govlive/content"
	"govlive/retrieval"
)

// TestForeign checks the salient-word signals on the sample pack: words
// of a question no text of the knowledge base has (Result.Foreign), and
// words a hit lacks (Hit.Missing, Hit.Unasked).
func TestForeign(t *testing.T) {
	t.Parallel()
	ix, cs := openSampleIndex(t)
	for _, tc := range []struct {
		q           string
		foreign     []string
		hit         string   // a FAQ entry among the hits
		missing     []string // its Missing
		unasked     []string // its Unasked
		wantSalient []string
	}{
		// The entry on a lost 从业资格证 is the top hit of all three; only
		// the words tell them apart.
		{q: "结婚证丢了怎么补办", foreign: []string{"结婚证"},
			hit: "faq-qualification-lost", missing: []string{"结婚证"}, unasked: []string{"结婚证"}},
		// 营业执照 is in the knowledge base (new food business materials),
		// not in the entry.
		{q: "营业执照丢了怎么补办", foreign: nil,
			hit: "faq-qualification-lost", missing: []string{"营业执照"}, unasked: []string{"营业执照"}},
		// 身份证 is in the entry's answer (what to bring), in no phrasing.
		{q: "身份证丢了怎么补办", foreign: nil,
			hit: "faq-qualification-lost", missing: nil, unasked: []string{"身份证"}},
		{q: "出租车驾驶员证丢了怎么补办", foreign: nil,
			hit: "faq-qualification-lost", missing: nil},
		{q: "我要开个体工商户要什么材料", foreign: []string{"个体", "工商户"},
			hit: "faq-taxi-license-materials", missing: []string{"个体", "工商户"}},
		{q: "食品经营许可证延续要提前多久", foreign: nil,
			hit: "faq-food-biz-renewal", missing: nil, unasked: nil, wantSalient: []string{"许可证"}},
		{q: "公积金怎么提取", foreign: []string{"公积金"}},
		{q: "户口迁移去哪办", foreign: []string{"户口"}},
		{q: "怎么预约", foreign: nil, wantSalient: nil},
	} {
		t.Run(tc.q, func(t *testing.T) {
			res := search(t, ix, retrieval.Query{Text: tc.q, K: 20})
			if !slices.Equal(res.Foreign, tc.foreign) {
				t.Errorf("Foreign = %q, want %q (salient %q)", res.Foreign, tc.foreign, res.Salient)
			}
			for _, w := range res.Foreign {
				if !slices.Contains(res.Salient, w) {
					t.Errorf("Foreign word %q is not in Salient %q", w, res.Salient)
				}
			}
			if tc.wantSalient != nil || tc.q == "怎么预约" {
				if !slices.Equal(res.Salient, tc.wantSalient) {
					t.Errorf("Salient = %q, want %q", res.Salient, tc.wantSalient)
				}
			}
			for _, h := range slices.Concat(res.FAQ, res.Docs) {
				// A word no text has is missing from every hit.
				for _, w := range res.Foreign {
					if !slices.Contains(h.Missing, w) {
						t.Errorf("hit %s: Missing %q lacks the foreign word %q", h.ID, h.Missing, w)
					}
				}
				for _, w := range h.Missing {
					if h.Kind == retrieval.KindFAQ && !slices.Contains(h.Unasked, w) {
						t.Errorf("hit %s: %q is Missing but not Unasked %q", h.ID, w, h.Unasked)
					}
				}
			}
			if tc.hit == "" {
				return
			}
			h, ok := hitByID(res.FAQ, tc.hit)
			if !ok {
				t.Fatalf("%s is not among the FAQ hits %v", tc.hit, hitIDs(res.FAQ))
			}
			if !slices.Equal(h.Missing, tc.missing) {
				t.Errorf("%s: Missing = %q, want %q", tc.hit, h.Missing, tc.missing)
			}
			if tc.unasked != nil && !slices.Equal(h.Unasked, tc.unasked) {
				t.Errorf("%s: Unasked = %q, want %q", tc.hit, h.Unasked, tc.unasked)
			}
		})
	}

	// Every phrasing of every entry, asked as a question: nothing is
	// foreign, and the entry, when it is a hit, lacks nothing. The
	// question and the knowledge base are cut the same way.
	t.Run("own phrasings", func(t *testing.T) {
		entries, _, err := cs.ListFAQ(context.Background(), content.FAQFilter{Status: content.StatusPublished}, content.Page{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range entries {
			for _, q := range append([]string{e.Question}, e.Similar...) {
				res := search(t, ix, retrieval.Query{Text: q})
				if len(res.Foreign) > 0 {
					t.Errorf("Search(%q): Foreign %q, want none", q, res.Foreign)
				}
				if h, ok := hitByID(res.FAQ, string(e.ID)); ok && len(h.Missing)+len(h.Unasked) > 0 {
					t.Errorf("Search(%q): its entry %s has Missing %q, Unasked %q; want none", q, e.ID, h.Missing, h.Unasked)
				}
				n += len(res.Salient)
			}
		}
		if n < 100 {
			t.Errorf("the sample phrasings have %d salient words in all, want more (is Salient working?)", n)
		}
	})
}

// TestForeignSync follows the knowledge base's words through Sync: an
// entry that names 结婚证, deleted again, and a document that comes to
// name 户口.
func TestForeignSync(t *testing.T) {
	t.Parallel()
	ix, cs := openSampleIndex(t)
	ctx := context.Background()
	foreign := func(t *testing.T, q string) []string {
		t.Helper()
		return search(t, ix, retrieval.Query{Text: q}).Foreign
	}
	const marriage = "结婚证丢了怎么补办"
	if got := foreign(t, marriage); !slices.Equal(got, []string{"结婚证"}) {
		t.Fatalf("before: Foreign %q, want [结婚证]", got)
	}
	e := dogEntry("结婚证遗失不在本中心补办，请到婚姻登记机关补领。", content.StatusPublished)
	putFAQ(t, cs, e)
	mustSync(t, ix)
	if got := foreign(t, marriage); len(got) > 0 {
		t.Errorf("after an entry names 结婚证: Foreign %q, want none", got)
	}
	res := search(t, ix, retrieval.Query{Text: marriage, K: 20})
	if h, ok := hitByID(res.FAQ, string(dogID)); !ok || len(h.Missing) > 0 || !slices.Contains(h.Unasked, "结婚证") {
		t.Errorf("the entry naming 结婚证 in its answer: hit %v, Missing %q, Unasked %q; want a hit, none, 结婚证 among them", ok, h.Missing, h.Unasked)
	}
	if err := cs.DeleteFAQ(ctx, dogID, "test"); err != nil {
		t.Fatalf("DeleteFAQ: %v", err)
	}
	mustSync(t, ix)
	if got := foreign(t, marriage); !slices.Equal(got, []string{"结婚证"}) {
		t.Errorf("after the entry is deleted: Foreign %q, want [结婚证]", got)
	}

	const household = "户口迁移去哪办"
	if got := foreign(t, household); !slices.Equal(got, []string{"户口"}) {
		t.Fatalf("before: Foreign %q, want [户口]", got)
	}
	d, err := cs.Document(ctx, "doc-hotline")
	if err != nil {
		t.Fatalf("Document: %v", err)
	}
	orig := d.Body
	d.Body += "\n\n第十一条 户口迁移等户籍业务请咨询公安机关。\n"
	if _, err := cs.PutDocument(ctx, d, "test"); err != nil {
		t.Fatalf("PutDocument: %v", err)
	}
	mustSync(t, ix)
	if got := foreign(t, household); len(got) > 0 {
		t.Errorf("after a document names 户口: Foreign %q, want none", got)
	}
	d.Body = orig
	if _, err := cs.PutDocument(ctx, d, "test"); err != nil {
		t.Fatalf("PutDocument: %v", err)
	}
	mustSync(t, ix)
	if got := foreign(t, household); !slices.Equal(got, []string{"户口"}) {
		t.Errorf("after the document is restored: Foreign %q, want [户口]", got)
	}
	if strings.Contains(orig, "户口") {
		t.Fatal("doc-hotline names 户口 already; choose another word")
	}
}

// TestOtherDocument: a question about a document the matched entry is not
// about (a lost 结婚证 against the entry on a lost qualification
// certificate) names it in Hit.Other; one about the entry's own document,
// however it is written, does not.
func TestOtherDocument(t *testing.T) {
	ix, _ := openSampleIndex(t)
	for _, tc := range []struct {
		q     string
		other bool
	}{
		{"结婚证丢了怎么补办", true},
		{"营业执照丢了怎么补办", true},
		{"身份证丢了怎么补办", true},
		{"驾驶证丢了怎么补办", true},
		{"社保卡怎么补办", true},
		{"从业资格证丢了怎么补办", false},
		{"出租车驾驶员证丢了怎么补办", false},
		{"食品经营许可证丢了怎么补办", false},
		{"巡游证和网约车证通用吗", false},
		{"批下来还要等证吗", false},
		{"新办食品经营许可要什么材料", false},
	} {
		res := search(t, ix, retrieval.Query{Text: tc.q})
		if len(res.FAQ) == 0 {
			t.Fatalf("%q: no FAQ hit", tc.q)
		}
		if got := len(res.FAQ[0].Other) > 0; got != tc.other {
			t.Errorf("%q: top %s, Other %v; want other=%v", tc.q, res.FAQ[0].ID, res.FAQ[0].Other, tc.other)
		}
	}
}

// TestElsewhere: a question whose documents no phrasing of the knowledge
// base asks about names them in Result.Elsewhere; one that names a
// document the phrasings ask about — however it is written, or beside
// another — does not. An entry that comes to ask about one (Sync) takes
// it out.
func TestElsewhere(t *testing.T) {
	t.Parallel()
	ix, cs := openSampleIndex(t)
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"结婚证丢了怎么补办", []string{"结婚证"}},
		{"驾驶证丢了怎么补办", []string{"驾驶证"}},
		{"营业执照丢了怎么补办", []string{"营业执照"}},          // in answers and passages, asked about nowhere
		{"学历证书变更", []string{"学历证书"}},              // not the 证书 (证照) the phrasings name
		{"办结婚证和社保卡要什么材料", []string{"结婚证", "社保卡"}}, // 办 before a document is no part of it
		{"身份证丢了怎么补办", nil},                        // a phrasing asks about posting a 身份证号
		{"营业执照上名字改了，食品经营许可也得跟着改吧", nil},           // and the 食品经营许可 the phrasings name
		{"餐館許可證申請下來大概要多久", nil},                   // 餐饮许可证 in another wording
		{"食品厂许可证办理时限", nil},                       // a 许可证 of the phrasings, of a 食品厂
		{"出租车驾驶证要啥材料", nil},                       // 出租车's
		{"办事时能用电子驾驶证代替实体驾驶证吗", nil},               // the 电子 of 电子证照
		{"我要开个体工商户要什么材料", nil},                    // no document
		{"驾驶证拿了几年才能开出租车", nil},                    // a detail of a question on 出租车
		{"有驾驶证就能开网约车吗", nil},                      // on 网约车
		{"合格证书可以跑网约车吗", nil},                      // a swap of eval --kb-folds not declined, for the same reason
	} {
		res := search(t, ix, retrieval.Query{Text: tc.q})
		if !slices.Equal(res.Elsewhere, tc.want) {
			t.Errorf("Search(%q): Elsewhere %q, want %q", tc.q, res.Elsewhere, tc.want)
		}
	}

	const q = "驾驶证丢了怎么补办"
	e := dogEntry("请到公安交通管理部门补领。", content.StatusPublished)
	e.Question = "驾驶证丢了去哪里补领？"
	putFAQ(t, cs, e)
	mustSync(t, ix)
	if got := search(t, ix, retrieval.Query{Text: q}).Elsewhere; got != nil {
		t.Errorf("after an entry asks about 驾驶证: Elsewhere %q, want none", got)
	}
}

// TestOtherDocumentPassage: a passage is about the documents its title
// and headings name; a question about another one names it in the
// passage's Hit.Other, one about its own does not.
func TestOtherDocumentPassage(t *testing.T) {
	ix, _ := openSampleIndex(t)
	for _, tc := range []struct {
		q, doc string
		other  []string
	}{
		{"身份证丢了怎么补办", "doc-road-passenger-qualification", []string{"身份证"}},
		// The guide's section on its 证件 is about certificates in
		// general: a question on a 资格证 names it too (no matter here, as
		// the best entry is about the 资格证).
		{"从业资格证丢了怎么补办", "doc-road-passenger-qualification", []string{"资格证"}},
		{"食品经营许可证丢了怎么补办", "doc-food-business-change", nil},
		{"要是证照在邮寄途中弄丢了，需要自己再去申请补办吗", "doc-cert-mailing", nil},
	} {
		res := search(t, ix, retrieval.Query{Text: tc.q, K: 20})
		i := slices.IndexFunc(res.Docs, func(h retrieval.Hit) bool { return string(h.Chunk.DocID) == tc.doc })
		if i < 0 {
			t.Fatalf("%q: no passage of %s among the hits", tc.q, tc.doc)
		}
		if h := res.Docs[i]; !slices.Equal(h.Other, tc.other) {
			t.Errorf("%q: %s (%s) Other %q, want %q", tc.q, h.ID, h.Chunk.Label, h.Other, tc.other)
		}
	}
}

// TestOutside: a question none of whose salient words the knowledge base
// has, one of them a frequent noun, and that names no document the
// phrasings ask about, names them in Result.Outside.
func TestOutside(t *testing.T) {
	t.Parallel()
	ix, _ := openSampleIndex(t)
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"户口迁移去哪办", []string{"户口"}},
		{"公积金怎么提取", []string{"公积金"}},
		{"我要开个体工商户要什么材料", []string{"个体", "工商户"}},
		{"午休時間能辦嗎", nil},             // 午休 is rare: a knowledge base lacks it readily
		{"开面包店办哪个证", nil},            // asks about a 证
		{"外地户口能办示例市的网约车驾驶员证吗", nil},  // 驾驶员 is the knowledge base's
		{"想办个做辣椒酱的小厂 生产许可要交神马", nil}, // so is 许可
		{"结婚证丢了怎么补办", nil},           // Elsewhere's, not salient-only
	} {
		res := search(t, ix, retrieval.Query{Text: tc.q})
		if !slices.Equal(res.Outside, tc.want) {
			t.Errorf("Search(%q): Outside %q, want %q (salient %q, foreign %q)", tc.q, res.Outside, tc.want, res.Salient, res.Foreign)
		}
	}
}
