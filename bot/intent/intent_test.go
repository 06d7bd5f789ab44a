package intent_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"

	"govlive/bot/intent"
	"govlive/content"
	"govlive/content/sample"
	"govlive/retrieval"
)

var (
	sampleOnce sync.Once
	sampleEx   []intent.Example
	sampleNorm func(string) string
	sampleErr  error
)

// sampleExamples returns the sample pack's examples (lexicon/examples.yaml)
// and its FAQ entries' phrasings as questions, with the normaliser search
// uses.
func sampleExamples(tb testing.TB) ([]intent.Example, func(string) string) {
	tb.Helper()
	sampleOnce.Do(func() {
		p, err := content.ReadPack(sample.FS)
		if err != nil {
			sampleErr = err
			return
		}
		ex, err := content.ParseExamples(p.Lexicon[content.ExamplesFile])
		if err != nil {
			sampleErr = err
			return
		}
		n, err := retrieval.NewNormalizer()
		if err != nil {
			sampleErr = err
			return
		}
		sampleNorm = n.Normalize
		sampleEx = examplesOf(ex)
		for _, e := range p.FAQ {
			for _, q := range append([]string{e.Question}, e.Similar...) {
				sampleEx = append(sampleEx, intent.Example{Text: q, Class: intent.Question})
			}
		}
	})
	if sampleErr != nil {
		tb.Fatal(sampleErr)
	}
	return sampleEx, sampleNorm
}

func examplesOf(ex content.Examples) []intent.Example {
	var out []intent.Example
	for _, l := range []struct {
		c    intent.Class
		list []string
	}{
		{intent.Question, ex.Question}, {intent.Urgent, ex.Urgent}, {intent.Complaint, ex.Complaint}, {intent.PersonalCase, ex.PersonalCase},
		{intent.HumanRequest, ex.HumanRequest}, {intent.OutOfScope, ex.OutOfScope}, {intent.Chitchat, ex.Chitchat}, {intent.Abuse, ex.Abuse},
	} {
		for _, s := range l.list {
			out = append(out, intent.Example{Text: s, Class: l.c})
		}
	}
	return out
}

func trainSample(tb testing.TB) *intent.Classifier {
	tb.Helper()
	ex, norm := sampleExamples(tb)
	c, err := intent.Train(tb.Context(), intent.Config{Normalize: norm}, ex)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// Held-out messages, written for this test: none is in examples.yaml or
// among the FAQ phrasings.
var heldOut = []struct {
	text string
	want intent.Class
}{
	{"投诉窗口工作人员要走什么流程", intent.Question},
	{"食品经营许可证延续要提前多久办", intent.Question},
	{"证照邮寄到外省要几天", intent.Question},
	{"办件超过承诺时限了一般怎么处理", intent.Question},
	{"申请被退回以后可以重新提交吗", intent.Question},
	{"怎么申请直播帮办", intent.Question},
	{"网约车驾驶员证要准备哪些材料", intent.Question},
	{"出租车驾驶员证丢了去哪里补", intent.Question},
	{"周六上午可以办食品许可吗", intent.Question},
	{"上门服务要怎么预约", intent.Question},

	{"我朋友在大厅晕倒了，快来人", intent.Urgent},
	{"许可证今天下午就到期了，现在还来得及续吗，急", intent.Urgent},
	{"有人冒充你们让我转账，电话还没挂", intent.Urgent},
	{"明天店就要开门营业了，证今天必须拿到", intent.Urgent},
	{"大厅有人打起来了，有人受伤了", intent.Urgent},

	{"刚才7号窗口那个女的对我大呼小叫的", intent.Complaint},
	{"交了材料等了一个小时，窗口的人说下班了让我明天再来", intent.Complaint},
	{"工作人员让我去外面找中介，说自己办不下来", intent.Complaint},
	{"帮办员收了我三百块钱说是材料费", intent.Complaint},
	{"在监督窗口反映的问题一直没有人处理", intent.Complaint},

	{"我的食品证变更交了十天了还显示审核中", intent.PersonalCase},
	{"我的许可证快递三天前显示签收，可我根本没收到", intent.PersonalCase},
	{"申请被退回了，说缺健康证明，可我明明交了", intent.PersonalCase},
	{"我上周交的从业资格证换证，到现在还查不到记录", intent.PersonalCase},

	{"能不能让工作人员给我打个电话", intent.HumanRequest},
	{"我想跟真人说，别给我自动回复", intent.HumanRequest},
	{"可以安排帮办专员一对一联系我吗", intent.HumanRequest},
	{"找个人工来跟我说", intent.HumanRequest},

	{"主播今天好美啊", intent.Chitchat},
	{"晚上好，刚进直播间", intent.Chitchat},
	{"谢谢主播，讲得很明白", intent.Chitchat},

	{"你们这群废物，一天到晚不干正事", intent.Abuse},
	{"蠢猪一样的主播", intent.Abuse},
	{"滚吧，一帮垃圾", intent.Abuse},
}

func TestHeldOut(t *testing.T) {
	ex, _ := sampleExamples(t)
	for _, e := range ex {
		for _, h := range heldOut {
			if e.Text == h.text {
				t.Fatalf("held-out %q is a training example", h.text)
			}
		}
	}
	c := trainSample(t)
	for _, tc := range heldOut {
		t.Run(tc.text, func(t *testing.T) {
			p := c.Predict(tc.text)
			if got, pr := p.Best(); got != tc.want {
				t.Errorf("got %s (%.2f), want %s (%.2f)", got, pr, tc.want, p.P(tc.want))
			}
		})
	}
}

func BenchmarkTrain(b *testing.B) {
	ex, norm := sampleExamples(b)
	for b.Loop() {
		if _, err := intent.Train(b.Context(), intent.Config{Normalize: norm}, ex); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(ex)), "examples")
}

func BenchmarkPredict(b *testing.B) {
	c := trainSample(b)
	texts := []string{"食品经营许可证延续要提前多久办", "刚才7号窗口那个女的对我大呼小叫的，我在那排了一个多小时，她一句话就把我打发了", "主播好"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Predict(texts[i%len(texts)])
		i++
	}
}

// TestCrossValidation prints the cross-validation of the sample examples
// (go test -v -run CrossValidation ./bot/intent/) and holds it to floors.
func TestCrossValidation(t *testing.T) {
	c := trainSample(t)
	r, err := c.CrossValidate(t.Context(), 5)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := r.Write(&b); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + b.String())
	if r.Folds != 5 || r.Examples != c.Examples() {
		t.Fatalf("report of %d folds, %d examples; want 5, %d", r.Folds, r.Examples, c.Examples())
	}
	if r.Accuracy < 0.85 {
		t.Errorf("accuracy %.3f, want ≥ 0.85", r.Accuracy)
	}
	// Floors a little under the figures of the sample examples (before the
	// examples' how-to questions and the second batch of cases: urgent
	// 0.57, complaint 0.33, personal case 0.70 recall at 0.9 precision).
	floors := map[intent.Class]struct{ precision, recall float64 }{
		// Question's precision 0.942 → 0.897 with the out-of-scope
		// examples: questions for someone else are told as questions, and a
		// third of them are taken for one (the bot still declines those
		// the knowledge base does not match).
		intent.Question:     {0.88, 0.95},
		intent.Urgent:       {0.85, 0.85},
		intent.Complaint:    {0.83, 0.83},
		intent.PersonalCase: {0.83, 0.83},
		intent.HumanRequest: {0.9, 0.93},
		intent.OutOfScope:   {0.85, 0.6},
		intent.Chitchat:     {0.75, 0.5},
		intent.Abuse:        {0.85, 0.65},
	}
	for _, cr := range r.Classes {
		if cr.Class == intent.Person {
			// What the bot escalates on: the four together, at their
			// threshold, precision reckoned at the prior.
			if cr.Threshold >= intent.Never || cr.AtPrecision < 0.9 || cr.AtRecall < 0.9 {
				t.Errorf("person: threshold %.2f, precision %.3f, recall %.3f there; want precision ≥ 0.9, recall ≥ 0.9", cr.Threshold, cr.AtPrecision, cr.AtRecall)
			}
			continue
		}
		f, ok := floors[cr.Class]
		if !ok {
			t.Errorf("report names class %q", cr.Class)
			continue
		}
		if cr.Precision < f.precision || cr.Recall < f.recall {
			t.Errorf("%s: precision %.3f, recall %.3f; want ≥ %.2f, ≥ %.2f", cr.Class, cr.Precision, cr.Recall, f.precision, f.recall)
		}
		if cr.Threshold < intent.Never && cr.AtPrecision < 0.9 {
			t.Errorf("%s: precision %.3f at threshold %.2f, want ≥ 0.9", cr.Class, cr.AtPrecision, cr.Threshold)
		}
		if got := c.Threshold(cr.Class); cr.Class != intent.Question && (got < 0.5 || got > intent.Never) {
			t.Errorf("%s: threshold %.2f out of [0.5, never]", cr.Class, got)
		}
	}
	// Where an answer is at hand, the bot escalates at the stricter one.
	if s := r.Sure; s.Threshold >= intent.Never || s.Threshold < c.Threshold(intent.Person) || s.AtPrecision < 0.95 || s.AtRecall < 0.85 {
		t.Errorf("person (sure): threshold %.2f (person's %.2f), precision %.3f, recall %.3f; want ≥ person's, precision ≥ 0.95, recall ≥ 0.85",
			s.Threshold, c.Threshold(intent.Person), s.AtPrecision, s.AtRecall)
	}
	if r.Prior != intent.DefaultPrior {
		t.Errorf("prior %v, want the default %v", r.Prior, intent.DefaultPrior)
	}
	// The reason given to those taken as needing a person.
	if r.Share < 0.2 || r.Share > 0.5 || len(r.Reasons) != 4 {
		t.Fatalf("share %v, %d reasons; want in [0.2, 0.5], 4", r.Share, len(r.Reasons))
	}
	for _, rr := range r.Reasons {
		if rr.Right < 0.85 || rr.Precision < 0.85 {
			t.Errorf("reason %s: %d escalated, %.3f given it, precision %.3f; want ≥ 0.85, ≥ 0.85", rr.Class, rr.Escalated, rr.Right, rr.Precision)
		}
	}
	// The confusion matrix counts every example once, its diagonal the
	// ones accuracy counts.
	all, right := 0, 0
	for i, row := range r.Confusion {
		for j, v := range row {
			all += v
			if i == j {
				right += v
			}
		}
	}
	if all != r.Examples || math.Abs(float64(right)/float64(all)-r.Accuracy) > 1e-12 {
		t.Errorf("confusion matrix: %d examples, %d right; want %d, accuracy %.3f", all, right, r.Examples, r.Accuracy)
	}
}

// TestCalibration checks that the probabilities mean what they say: in
// cross-validation, the examples whose most probable class has
// probability about p are right about p of the time.
func TestCalibration(t *testing.T) {
	r := trainSample(t).Report()
	if r.ECE > 0.05 {
		t.Errorf("expected calibration error %.3f, want ≤ 0.05", r.ECE)
	}
	n := 0
	for _, b := range r.Calibration {
		n += b.N
		if b.N < 30 {
			// Too few for the gap to mean much. (Since the out-of-scope
			// examples, the lowest bin, 0.3–0.4, holds 28 and is
			// underconfident: 0.36 against 0.68 right; ECE 0.016.)
			continue
		}
		// Within two standard errors of a share of b.N right answers
		// at the mean probability, and a little slack.
		tol := 2*math.Sqrt(b.MeanP*(1-b.MeanP)/float64(b.N)) + 0.03
		if gap := math.Abs(b.MeanP - b.Accuracy); gap > tol {
			t.Errorf("bin %.1f–%.1f (%d examples): mean probability %.3f, accuracy %.3f; want within %.3f", b.Lo, b.Hi, b.N, b.MeanP, b.Accuracy, tol)
		}
	}
	if n != r.Examples {
		t.Errorf("bins hold %d examples, want %d", n, r.Examples)
	}
	if r.Temperature <= 0 || r.Temperature == 1 {
		t.Errorf("temperature %v: not fitted", r.Temperature)
	}
}

// TestDeterministic trains twice on the same examples: the same model,
// the same figures.
func TestDeterministic(t *testing.T) {
	a, b := trainSample(t), trainSample(t)
	if !reflect.DeepEqual(a.Report(), b.Report()) {
		t.Error("two trainings gave different cross-validation reports")
	}
	if a.Temperature() != b.Temperature() {
		t.Errorf("temperatures %v and %v", a.Temperature(), b.Temperature())
	}
	for _, h := range heldOut {
		pa, pb := a.Predict(h.text), b.Predict(h.text)
		for _, c := range intent.Classes {
			if pa.P(c) != pb.P(c) {
				t.Errorf("%q: P(%s) %v and %v", h.text, c, pa.P(c), pb.P(c))
			}
		}
	}
}

func TestPrediction(t *testing.T) {
	c := trainSample(t)
	for _, text := range []string{"", "！！！", "食品经营许可证延续要提前多久办", "完全没见过的字词组合麤龘"} {
		p := c.Predict(text)
		sum := 0.0
		for _, cl := range intent.Classes {
			v := p.P(cl)
			if v < 0 || v > 1 || math.IsNaN(v) {
				t.Errorf("%q: P(%s) = %v", text, cl, v)
			}
			sum += v
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("%q: probabilities add up to %v", text, sum)
		}
		person := p.P(intent.Urgent) + p.P(intent.Complaint) + p.P(intent.PersonalCase) + p.P(intent.HumanRequest)
		if math.Abs(p.P(intent.Person)-person) > 1e-12 {
			t.Errorf("%q: P(person) %v, want the four added up, %v", text, p.P(intent.Person), person)
		}
	}
	// Nothing known: the prior, which decides nothing. (Since the
	// out-of-scope examples, the most probable class of a text with no
	// known n-gram may be theirs, as a question for someone else is what
	// a question unlike the knowledge base's is; below its threshold.)
	unknown := c.Predict("麤龘")
	for _, cl := range intent.Classes {
		if cl != intent.Question && unknown.P(cl) >= c.Threshold(cl) {
			t.Errorf("unknown text: P(%s) %.2f reaches its threshold %.2f", cl, unknown.P(cl), c.Threshold(cl))
		}
	}
	// Traditional characters and full-width forms read as their folds.
	a, b := c.Predict("窗口的人態度很差，還罵我"), c.Predict("窗口的人态度很差，还骂我")
	if a.P(intent.Complaint) != b.P(intent.Complaint) {
		t.Errorf("traditional %v, simplified %v", a.P(intent.Complaint), b.P(intent.Complaint))
	}
}

func TestTrainErrors(t *testing.T) {
	_, norm := sampleExamples(t)
	q := intent.Example{Text: "怎么预约", Class: intent.Question}
	u := intent.Example{Text: "着火了快来人", Class: intent.Urgent}
	for _, tc := range []struct {
		name string
		cfg  intent.Config
		ex   []intent.Example
		want error
	}{
		{"no normaliser", intent.Config{}, []intent.Example{q, u}, intent.ErrNoNormalizer},
		{"no examples", intent.Config{Normalize: norm}, nil, intent.ErrTooFewClasses},
		{"questions only", intent.Config{Normalize: norm}, []intent.Example{q}, intent.ErrTooFewClasses},
		{"no questions", intent.Config{Normalize: norm}, []intent.Example{u, {Text: "主播好", Class: intent.Chitchat}}, intent.ErrTooFewClasses},
		{"unknown class", intent.Config{Normalize: norm}, []intent.Example{q, u, {Text: "x", Class: "weather"}}, intent.ErrUnknownClass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := intent.Train(t.Context(), tc.cfg, tc.ex); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	// A class without examples is never decided on.
	c, err := intent.Train(t.Context(), intent.Config{Normalize: norm}, []intent.Example{q, u, {Text: "办件进度在哪查", Class: intent.Question}, {Text: "有人晕倒了", Class: intent.Urgent}})
	if err != nil {
		t.Fatal(err)
	}
	if th := c.Threshold(intent.Abuse); th < intent.Never {
		t.Errorf("threshold of a class without examples: %v, want never", th)
	}
	if p := c.Predict("废物").P(intent.Abuse); p != 0 {
		t.Errorf("P(abuse) = %v without abuse examples", p)
	}
	if th := c.SureOutOfScope(); th < intent.Never {
		t.Errorf("sure out-of-scope threshold without such examples: %v, want never", th)
	}
	// With them, the sure threshold is never below the class's own.
	if s := trainSample(t); s.SureOutOfScope() < s.Threshold(intent.OutOfScope) || s.SureOutOfScope() >= intent.Never {
		t.Errorf("sure out-of-scope threshold %v, class threshold %v", s.SureOutOfScope(), s.Threshold(intent.OutOfScope))
	}
}

// A repeated text counts once, with the class it was first given.
func TestDuplicates(t *testing.T) {
	ex, norm := sampleExamples(t)
	c := trainSample(t)
	more := append(append([]intent.Example(nil), ex...), intent.Example{Text: ex[0].Text, Class: intent.Chitchat}, intent.Example{Text: ex[1].Text + "！", Class: ex[1].Class})
	d, err := intent.Train(t.Context(), intent.Config{Normalize: norm}, more)
	if err != nil {
		t.Fatal(err)
	}
	if d.Examples() != c.Examples() {
		t.Errorf("%d examples after adding two repeats, want %d", d.Examples(), c.Examples())
	}
}

// TestTrainStops: training a cancelled context stops with its error
// instead of training on (serve stops while the classifier trains).
func TestTrainStops(t *testing.T) {
	ex, norm := sampleExamples(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := intent.Train(ctx, intent.Config{Normalize: norm}, ex); !errors.Is(err, context.Canceled) {
		t.Fatalf("Train on a cancelled context: %v, want context.Canceled", err)
	}
}
