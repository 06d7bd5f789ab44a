package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"govlive/bot"
	"govlive/content"
	"govlive/content/contenttest"
	"govlive/retrieval"
	"govlive/store/storetest"
)

// stack is the real pipeline over the sample pack: a SQLite content store,
// the lexical knowledge index and a bot with the pack's lexicon.
type stack struct {
	store *content.Store
	index *retrieval.Index
	norm  *retrieval.Normalizer
	lex   content.Lexicon
	bot   *bot.Bot
}

// newStack imports the sample pack into a fresh database file and builds
// the index and a bot on it with thresholds th (zero: the defaults).
func newStack(t testing.TB, th bot.Thresholds) *stack {
	t.Helper()
	ctx := context.Background()
	cs := contenttest.NewStore(t, storetest.Open(t), contenttest.Clock())
	contenttest.Import(t, cs, contenttest.SamplePack(t))
	n, err := retrieval.NewNormalizer()
	if err != nil {
		t.Fatalf("normalizer: %v", err)
	}
	ix, err := retrieval.Open(ctx, retrieval.Config{Source: cs, Normalizer: n})
	if err != nil {
		t.Fatalf("open index: %v", err)
	}
	t.Cleanup(func() {
		if err := ix.Close(); err != nil {
			t.Errorf("close index: %v", err)
		}
	})
	lx, err := cs.Lexicon(ctx)
	if err != nil {
		t.Fatalf("lexicon: %v", err)
	}
	b, err := bot.New(t.Context(), bot.Config{Searcher: ix, Documents: cs, Normalizer: n, Lexicon: lx, Thresholds: th, Questions: ix})
	if err != nil {
		t.Fatalf("new bot: %v", err)
	}
	return &stack{store: cs, index: ix, norm: n, lex: lx, bot: b}
}

// Titles of the sample documents that replies cite.
const (
	titleFoodNew    = "《食品经营许可（新办）办事指南》"
	titleComplaint  = "《示例市政务服务投诉处理与监督管理办法》"
	titleEvaluation = "《示例市政务服务“好差评”与满意度回访实施细则》"
	titleHotline    = "《示例市政务服务中心“一号响应”咨询热线服务规范》"
	titleMailing    = "《示例市政务服务中心即时制证与证照免费邮寄服务规范》"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, bot.Thresholds{})
	tests := []struct {
		name   string
		msg    string
		action bot.Action
		reason bot.Reason
		faq    content.FAQID // answer from FAQ: the entry
		source string        // answer: the Source
		quote  string        // answer from a document: text of the passage the reply quotes
		cue    string        // the cue that decided, if one did
		masked string        // Masked when it differs from msg
	}{
		// Answers.
		{name: "faq materials", msg: "开一家面馆，新办食品经营许可证要带哪些资料？",
			action: bot.ActionAnswer, reason: bot.ReasonFAQ, faq: "faq-food-biz-new-materials", source: titleFoodNew},
		{name: "faq mailing", msg: "办好的证能不能免费寄到我家里",
			action: bot.ActionAnswer, reason: bot.ReasonFAQ, faq: "faq-cert-mailing-free", source: titleMailing},
		{name: "faq with two sources", msg: "如果对窗口的服务不满意，应该通过什么渠道投诉？",
			action: bot.ActionAnswer, reason: bot.ReasonFAQ, faq: "faq-complaint-channels", source: titleComplaint + "、" + titleEvaluation},
		{name: "faq laugh before the question", msg: "哈哈，请问食品经营许可证要多少天",
			action: bot.ActionAnswer, reason: bot.ReasonFAQ, faq: "faq-food-biz-new-time", source: titleFoodNew + "、" + titleMailing},
		{name: "document article", msg: "调查核实投诉可以采取哪些方式",
			action: bot.ActionAnswer, reason: bot.ReasonDocument, source: titleComplaint + "第七条", quote: "调取监控录像、查阅办件记录"},
		// The passage beats the FAQ entry on confidence, but everything the
		// question asks that it explains (投诉, 处理结果不满意, 申请复核,
		// 工作日) the standard answer's entry has too: the FAQ answers. (The
		// passage's "5个工作日内" is lost: a known cost of DocBeyond.)
		{name: "document adding nothing to the FAQ", msg: "对投诉处理结果不满意，几个工作日内可以申请复核？",
			action: bot.ActionAnswer, reason: bot.ReasonFAQ, faq: "faq-complaint-handling", source: titleComplaint},

		// Official numbers are not personal data.
		{name: "hotline number is not pii", msg: "咨询热线0000-1234567几点有人接听",
			action: bot.ActionAnswer, reason: bot.ReasonFAQ, faq: "faq-hotline", source: titleHotline},
		{name: "12345 is not pii", msg: "打12345能不能反映政务中心窗口的问题",
			action: bot.ActionAnswer, reason: bot.ReasonFAQ, faq: "faq-12345", source: titleComplaint + "、" + titleHotline},

		// Escalations.
		{name: "pii id number", msg: "我的身份证号是11010519880214003X，营业执照能查到吗",
			action: bot.ActionEscalate, reason: bot.ReasonPII, masked: "我的身份证号是110105********003X，营业执照能查到吗"},
		{name: "pii mobile with dashes", msg: "有问题请打我电话130-0000-0000",
			action: bot.ActionEscalate, reason: bot.ReasonPII, masked: "有问题请打我电话130-****-0000"},
		{name: "pii email", msg: "邮箱是zhang.san@example.com，材料发哪里",
			action: bot.ActionEscalate, reason: bot.ReasonPII, masked: "邮箱是z***@example.com，材料发哪里"},
		{name: "urgent", msg: "营业执照明天就要用，十万火急",
			action: bot.ActionEscalate, reason: bot.ReasonUrgent, cue: "十万火急"},
		{name: "urgent safety", msg: "大厅里有位老人摔倒了",
			action: bot.ActionEscalate, reason: bot.ReasonUrgent, cue: "摔倒"},
		{name: "complaint about staff", msg: "三号窗口那个工作人员态度很差，一直吼我",
			action: bot.ActionEscalate, reason: bot.ReasonComplaint, cue: "号窗口…态度"},
		{name: "complaint in traditional with punctuation", msg: "窗口工作人員態度，很差",
			action: bot.ActionEscalate, reason: bot.ReasonComplaint, cue: "态度很差"},
		{name: "complaint naming the wish", msg: "我想投诉那个窗口的办事员，故意刁难我",
			action: bot.ActionEscalate, reason: bot.ReasonComplaint, cue: "我想投诉"},
		{name: "personal case refused", msg: "我的营业执照申请被退回了，说材料不全",
			action: bot.ActionEscalate, reason: bot.ReasonPersonalCase, cue: "我的…被退回"},
		{name: "personal case waiting", msg: "我上周提交的食品经营许可变更到现在一直没消息",
			action: bot.ActionEscalate, reason: bot.ReasonPersonalCase},
		{name: "human request", msg: "机器人回答不了，请帮我转人工",
			action: bot.ActionEscalate, reason: bot.ReasonHumanRequest, cue: "转人工"},
		{name: "human request for a call", msg: "可以找个工作人员连线我吗",
			action: bot.ActionEscalate, reason: bot.ReasonHumanRequest, cue: "连线我"},

		// Declines.
		{name: "out of scope weather", msg: "明天会不会下雨",
			action: bot.ActionDecline, reason: bot.ReasonOutOfScope, cue: "下雨"},
		{name: "chitchat", msg: "主播今天的衣服真好看",
			action: bot.ActionDecline, reason: bot.ReasonChitchat, cue: "主播…好看"},

		// Hidden.
		{name: "abuse", msg: "你们这些人都是废物",
			action: bot.ActionModerate, reason: bot.ReasonAbuse, cue: "废物"},
		{name: "abuse full-width", msg: "ＳＢ主播",
			action: bot.ActionModerate, reason: bot.ReasonAbuse, cue: "sb"},
		{name: "spam", msg: "兼职刷单日赚三百，加v详聊",
			action: bot.ActionModerate, reason: bot.ReasonSpam, cue: "兼职刷单"},
		{name: "flooding one character", msg: "6666666666",
			action: bot.ActionModerate, reason: bot.ReasonSpam},
		{name: "flooding a chunk", msg: "加油加油加油加油",
			action: bot.ActionModerate, reason: bot.ReasonSpam},

		// Precedence.
		{name: "pii beats urgent", msg: "十万火急！我手机13912345678，马上帮我查",
			action: bot.ActionEscalate, reason: bot.ReasonPII, masked: "十万火急！我手机139****5678，马上帮我查"},
		{name: "urgent beats complaint", msg: "窗口人员态度很差，我今天就要拿证，十万火急",
			action: bot.ActionEscalate, reason: bot.ReasonUrgent, cue: "十万火急"},
		{name: "how to complain is a faq question", msg: "投诉后多久会有结果",
			action: bot.ActionAnswer, reason: bot.ReasonFAQ, faq: "faq-complaint-handling", source: titleComplaint},
		{name: "out of scope told as own case", msg: "我的公积金提取申请被退回了",
			action: bot.ActionDecline, reason: bot.ReasonOutOfScope, cue: "公积金"},
		{name: "abuse beats pii", msg: "废物，我电话13912345678",
			action: bot.ActionModerate, reason: bot.ReasonAbuse, masked: "废物，我电话139****5678"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := s.bot.Decide(ctx, bot.Message{Text: tc.msg})
			if err != nil {
				t.Fatalf("Decide(%q): %v", tc.msg, err)
			}
			if d.Action != tc.action || d.Reason != tc.reason {
				t.Fatalf("Decide(%q): got %s/%s (cue %q, confidence %.3f), want %s/%s",
					tc.msg, d.Action, d.Reason, d.Cue, d.Confidence, tc.action, tc.reason)
			}
			if tc.cue != "" && d.Cue != tc.cue {
				t.Errorf("cue: got %q, want %q", d.Cue, tc.cue)
			}
			wantMasked := tc.msg
			if tc.masked != "" {
				wantMasked = tc.masked
			}
			if d.Masked != wantMasked {
				t.Errorf("masked: got %q, want %q", d.Masked, wantMasked)
			}
			if gotPII := len(d.PII) > 0; gotPII != (tc.masked != "") {
				t.Errorf("pii: got %v, want found=%v", d.PII, tc.masked != "")
			}
			checkReply(t, ctx, s, d, tc.faq, tc.source, tc.quote)
		})
	}
}

// reply is the text a viewer gets for d, in the default words.
func reply(d bot.Decision) string { return bot.ReplyText(d, content.DefaultReplies) }

// checkReply checks what the viewer sees for each kind of decision.
func checkReply(t *testing.T, ctx context.Context, s *stack, d bot.Decision, faq content.FAQID, source, quote string) {
	t.Helper()
	switch {
	case d.Action == bot.ActionModerate:
		if reply(d) != "" {
			t.Errorf("hidden message: got reply %q, want none", reply(d))
		}
	case d.Reason == bot.ReasonFAQ:
		if d.FAQ == nil || d.FAQ.ID != faq {
			t.Fatalf("faq: got %v, want %s", d.FAQ, faq)
		}
		e, err := s.store.FAQ(ctx, faq)
		if err != nil {
			t.Fatal(err)
		}
		if d.Source != source {
			t.Errorf("source: got %q, want %q", d.Source, source)
		}
		if want := e.Answer + "\n来源：" + source; reply(d) != want {
			t.Errorf("reply:\ngot  %q\nwant %q", reply(d), want)
		}
	case d.Reason == bot.ReasonDocument:
		if d.FAQ != nil {
			t.Errorf("document answer: got FAQ %s, want none", d.FAQ.ID)
		}
		if d.Hit == nil || d.Hit.Chunk == nil {
			t.Fatalf("document answer: got hit %v, want a chunk", d.Hit)
		}
		if d.Source != source || d.Hit.Chunk.Citation() != source {
			t.Errorf("source: got %q (chunk citation %q), want %q", d.Source, d.Hit.Chunk.Citation(), source)
		}
		if want := "根据" + source + "：\n"; !strings.HasPrefix(reply(d), want) {
			t.Errorf("reply %q: want prefix %q", reply(d), want)
		}
		if !strings.Contains(reply(d), quote) {
			t.Errorf("reply %q: want it to quote %q", reply(d), quote)
		}
	default:
		if reply(d) == "" {
			t.Errorf("%s/%s: got no reply, want one", d.Action, d.Reason)
		}
		if d.FAQ != nil || d.Source != "" {
			t.Errorf("%s/%s: got FAQ %v source %q, want none", d.Action, d.Reason, d.FAQ, d.Source)
		}
	}
}

func TestDecideEmpty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, bot.Thresholds{})
	chit, err := s.bot.Decide(ctx, bot.Message{Text: "主播今天的衣服真好看"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, msg string }{
		{"empty", ""},
		{"spaces", "   "},
		{"white space", " \t\n\u3000"},
		{"punctuation only", "？？？"},
		{"emoji only", "👍👍"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := s.bot.Decide(ctx, bot.Message{Text: tc.msg})
			if err != nil {
				t.Fatalf("Decide(%q): %v", tc.msg, err)
			}
			if d.Action != bot.ActionDecline {
				t.Errorf("action: got %s, want %s", d.Action, bot.ActionDecline)
			}
			if !strings.Contains(reply(d), "请直接输入想咨询的办事问题") {
				t.Errorf("reply: got %q, want a prompt to ask a question", reply(d))
			}
			if reply(d) == reply(chit) {
				t.Errorf("reply: got the chit-chat reply %q, want the prompt", reply(d))
			}
			if d.Search != nil {
				t.Errorf("search: got %+v, want none for an empty message", d.Search)
			}
		})
	}
}

// TestDecideOfficialNumber checks that the lexicon's official numbers
// reach the personal-data detector: a mobile-like number the center
// publishes is not masked, the same message with another number is.
func TestDecideOfficialNumber(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, bot.Thresholds{})
	lx := s.lex
	lx.Cues.OfficialNumbers = append(append([]string(nil), s.lex.Cues.OfficialNumbers...), "139 0000 1234")
	b, err := bot.New(t.Context(), bot.Config{Searcher: s.index, Documents: s.store, Normalizer: s.norm, Lexicon: lx})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		msg     string
		wantPII bool
	}{
		{"official mobile-like number", "食品许可的事可以打13900001234问吗", false},
		{"official number written with dashes", "食品许可的事可以打139-0000-1234问吗", false},
		{"another number", "食品许可的事可以打13900001235问吗", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := b.Decide(ctx, bot.Message{Text: tc.msg})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Reason == bot.ReasonPII; got != tc.wantPII {
				t.Errorf("Decide(%q): got %s/%s, want pii escalation %v", tc.msg, d.Action, d.Reason, tc.wantPII)
			}
			if got := d.Masked != tc.msg; got != tc.wantPII {
				t.Errorf("masked: got %q, want masked %v", d.Masked, tc.wantPII)
			}
		})
	}
}

func TestDecideThresholds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	th := bot.DefaultThresholds
	th.FAQ, th.Doc = 0.99, 0.99
	s := newStack(t, th)
	// The confidence thresholds alone, without the intent classifier
	// (TestLearned has it).
	b, err := bot.New(t.Context(), bot.Config{Searcher: s.index, Documents: s.store, Normalizer: s.norm, Lexicon: s.lex, Thresholds: th})
	if err != nil {
		t.Fatal(err)
	}
	s.bot = b
	tests := []struct {
		name      string
		msg       string
		wantTerms bool // the premise: the question names a domain term
		action    bot.Action
		reason    bot.Reason
	}{
		{"domain term", "食品经营许可证新办需要多久", true, bot.ActionEscalate, bot.ReasonLowConfidence},
		{"domain term, taxi", "网约车驾驶员证需要什么材料", true, bot.ActionEscalate, bot.ReasonLowConfidence},
		{"no domain term", "请问这个东西该找谁弄", false, bot.ActionDecline, bot.ReasonOutOfScope},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := s.bot.Decide(ctx, bot.Message{Text: tc.msg})
			if err != nil {
				t.Fatal(err)
			}
			if d.Search == nil {
				t.Fatalf("Decide(%q): got no search, want one", tc.msg)
			}
			if got := len(d.Search.Terms) > 0; got != tc.wantTerms {
				t.Fatalf("terms of %q: got %q, want some: %v", tc.msg, d.Search.Terms, tc.wantTerms)
			}
			if d.Action != tc.action || d.Reason != tc.reason {
				t.Errorf("Decide(%q): got %s/%s (confidence %.3f), want %s/%s", tc.msg, d.Action, d.Reason, d.Confidence, tc.action, tc.reason)
			}
			if d.Confidence >= 0.99 {
				t.Errorf("confidence: got %.3f, want below the answer thresholds", d.Confidence)
			}
			if d.FAQ != nil || d.Hit != nil {
				t.Errorf("got an answer's origin (faq %v, hit %v), want none", d.FAQ, d.Hit)
			}
		})
	}
}

// failingSearcher is a Searcher whose every search fails.
type failingSearcher struct{ err error }

func (f failingSearcher) Search(context.Context, retrieval.Query) (retrieval.Result, error) {
	return retrieval.Result{}, f.err
}

func TestDecideSearchError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, bot.Thresholds{})
	errDown := errors.New("index unavailable")
	b, err := bot.New(t.Context(), bot.Config{Searcher: failingSearcher{errDown}, Documents: s.store, Normalizer: s.norm, Lexicon: s.lex})
	if err != nil {
		t.Fatal(err)
	}
	d, err := b.Decide(ctx, bot.Message{Text: "食品经营许可证新办需要多久"})
	if !errors.Is(err, errDown) {
		t.Fatalf("Decide: got error %v, want %v", err, errDown)
	}
	if d.Action != "" || reply(d) != "" {
		t.Errorf("Decide with an error: got %s reply %q, want the zero Decision", d.Action, reply(d))
	}
}

func TestNewNeedsDependencies(t *testing.T) {
	t.Parallel()
	s := newStack(t, bot.Thresholds{})
	tests := []struct {
		name string
		cfg  bot.Config
	}{
		{"no searcher", bot.Config{Documents: s.store, Normalizer: s.norm}},
		{"no documents", bot.Config{Searcher: s.index, Normalizer: s.norm}},
		{"no normalizer", bot.Config{Searcher: s.index, Documents: s.store}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if b, err := bot.New(t.Context(), tc.cfg); err == nil {
				t.Errorf("New: got %v, want an error", b)
			}
		})
	}
}

func TestDecideOddInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, bot.Thresholds{})
	tests := []struct{ name, msg string }{
		{"invalid utf-8", "食品经营\xff\xfe许可证\xc3要多久"},
		{"invalid utf-8 only", "\xff\xfe\xfd"},
		{"truncated rune", "营业执照\xe6\x89"},
		{"nul bytes", "营业\x00执照\x00"},
		{"10000 characters", strings.Repeat("食", 10000)},
		{"10000 characters of questions", strings.Repeat("请问新办食品经营许可证要带哪些材料", 10000/17)},
		{"pii past the analysed part", strings.Repeat("问", 9990) + "13912345678"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := s.bot.Decide(ctx, bot.Message{Text: tc.msg})
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			switch d.Action {
			case bot.ActionAnswer, bot.ActionEscalate, bot.ActionDecline, bot.ActionModerate:
			default:
				t.Errorf("action: got %q, want one of the four", d.Action)
			}
			if !utf8.ValidString(d.Masked) || !utf8.ValidString(reply(d)) {
				t.Errorf("got invalid UTF-8: masked %q, reply %q", d.Masked, reply(d))
			}
			if strings.Contains(d.Masked, "13912345678") {
				t.Errorf("masked text shows the mobile number %q", "13912345678")
			}
		})
	}
}

// TestDecideConcurrent decides the same messages from several goroutines
// (a Bot is safe for concurrent use; run with -race) and checks that each
// gets the decision it gets alone.
func TestDecideConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStack(t, bot.Thresholds{})
	msgs := []string{
		"开一家面馆，新办食品经营许可证要带哪些资料？",
		"调查核实投诉可以采取哪些方式",
		"有问题请打我电话130-0000-0000",
		"明天会不会下雨",
		"食品經營許可證要多少天",
	}
	want := make([]bot.Decision, len(msgs))
	for i, m := range msgs {
		d, err := s.bot.Decide(ctx, bot.Message{Text: m})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = d
	}
	const workers = 4
	got := make([][]bot.Decision, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, m := range msgs {
				d, err := s.bot.Decide(ctx, bot.Message{Text: m})
				if err != nil {
					errs[w] = err
					return
				}
				got[w] = append(got[w], d)
			}
		}()
	}
	wg.Wait()
	for w := range workers {
		if errs[w] != nil {
			t.Fatalf("worker %d: %v", w, errs[w])
		}
		for i, d := range got[w] {
			if d.Action != want[i].Action || d.Reason != want[i].Reason || reply(d) != reply(want[i]) || d.Masked != want[i].Masked {
				t.Errorf("worker %d, %q: got %s/%s %q, want %s/%s %q", w, msgs[i], d.Action, d.Reason, reply(d), want[i].Action, want[i].Reason, reply(want[i]))
			}
		}
	}
}

// TestDecideClarify: FAQ entries of one category close to the best one
// make the bot ask which was meant, best first, with the entries' sources;
// a margin of 0, or a best entry that is sure enough, answers instead.
func TestDecideClarify(t *testing.T) {
	t.Parallel()
	const q = "食品经营许可证办理"
	wide := bot.DefaultThresholds
	wide.ClarifyMargin, wide.ClarifySure = 1, 1
	s := newStack(t, wide)
	d, err := s.bot.Decide(context.Background(), bot.Message{Text: q})
	if err != nil {
		t.Fatal(err)
	}
	if d.Action != bot.ActionAnswer || d.Reason != bot.ReasonClarify || len(d.Options) < 2 || len(d.Options) > 3 {
		t.Fatalf("got %s/%s with %d options, want answer/clarify with 2–3", d.Action, d.Reason, len(d.Options))
	}
	if d.Options[0].FAQ.ID != d.Search.FAQ[0].FAQ.ID {
		t.Errorf("first option %s, want the best hit %s", d.Options[0].FAQ.ID, d.Search.FAQ[0].FAQ.ID)
	}
	for i, o := range d.Options {
		if o.FAQ.Category != d.Options[0].FAQ.Category || o.Source == "" {
			t.Errorf("option %d: %s in %s with source %q, want the first's category and a source", i, o.FAQ.ID, o.FAQ.Category, o.Source)
		}
	}
	text := reply(d)
	if !strings.HasPrefix(text, "您想问的是：") || !strings.Contains(text, "2. "+d.Options[1].FAQ.Question) {
		t.Errorf("reply %q does not list the options", text)
	}
	if got := bot.Chosen(d.Options[1], "2"); got.Reason != bot.ReasonFAQ || reply(got) != d.Options[1].FAQ.Answer+"\n来源："+d.Options[1].Source {
		t.Errorf("choosing 2: %s/%s %q", got.Action, got.Reason, reply(got))
	}
	for name, th := range map[string]bot.Thresholds{
		"margin 0": func() bot.Thresholds { x := wide; x.ClarifyMargin = 0; return x }(),
		"sure":     func() bot.Thresholds { x := wide; x.ClarifySure = 0.01; return x }(),
	} {
		d, err := newStack(t, th).bot.Decide(context.Background(), bot.Message{Text: q})
		if err != nil || d.Reason != bot.ReasonFAQ || d.Options != nil {
			t.Errorf("%s: got %s/%s with %d options (%v), want the FAQ answer", name, d.Action, d.Reason, len(d.Options), err)
		}
	}
}

// TestDecideOtherDocument: a question about a document the best entry is
// not about, with no passage answering it, is another office's matter —
// and so is one about a document no phrasing of the knowledge base asks
// about (retrieval.Result.Elsewhere), whatever entry or passage shares
// its other words, or one about a matter it has no word of
// (retrieval.Result.Outside) that no entry or passage matches well.
func TestDecideOtherDocument(t *testing.T) {
	t.Parallel()
	s := newStack(t, bot.Thresholds{})
	for _, tc := range []struct {
		q      string
		action bot.Action
		reason bot.Reason
	}{
		{"结婚证丢了怎么补办", bot.ActionDecline, bot.ReasonOutOfScope},
		{"营业执照丢了怎么补办", bot.ActionDecline, bot.ReasonOutOfScope},
		{"从业资格证丢了怎么补办", bot.ActionAnswer, bot.ReasonFAQ},
		{"驾驶证当天能拿吗", bot.ActionDecline, bot.ReasonOutOfScope},
		// The passage on a lost qualification names 身份证 among what to
		// bring: it is about another document as well.
		{"身份证丢了怎么补办", bot.ActionDecline, bot.ReasonOutOfScope},
		{"结婚证要来厂里检查吗", bot.ActionDecline, bot.ReasonOutOfScope},
		{"学历证书变更", bot.ActionDecline, bot.ReasonOutOfScope},
		{"出租车驾驶员证当天能拿吗", bot.ActionAnswer, bot.ReasonFAQ},
		{"驾驶证拿了几年才能开出租车", bot.ActionAnswer, bot.ReasonFAQ}, // 驾驶证 is a detail
		// Nothing named is the knowledge base's, and 个体 is a frequent
		// noun (retrieval.Result.Outside); 午休 is a rare one.
		{"我要开个体工商户要什么材料", bot.ActionDecline, bot.ReasonOutOfScope},
		{"午休時間能辦嗎", bot.ActionAnswer, bot.ReasonFAQ},
	} {
		d, err := s.bot.Decide(context.Background(), bot.Message{Text: tc.q})
		if err != nil {
			t.Fatal(err)
		}
		if d.Action != tc.action || d.Reason != tc.reason {
			t.Errorf("%q: %s/%s (cue %q), want %s/%s", tc.q, d.Action, d.Reason, d.Cue, tc.action, tc.reason)
		}
	}
}
