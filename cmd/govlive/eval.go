package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"govlive/bot"
	"govlive/content"
	"govlive/content/sample"
	"govlive/retrieval"
	"govlive/retrieval/baseline"
	"govlive/retrieval/words"
	"govlive/store"
)

func evalCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		kb      string
		asJSON  bool
		verbose bool
		kbFolds bool
	)
	cfg, rest, err := parseConfig("eval", args, getenv, stdout, " FILE | --kb-folds", func(fs *flag.FlagSet) {
		fs.StringVar(&kb, "kb", "", "content pack to answer from (default: the built-in sample pack), loaded into a temporary store")
		fs.BoolVar(&asJSON, "json", false, "print the figures as one JSON object")
		fs.BoolVar(&verbose, "verbose", false, "also list every question whose action or FAQ entry was wrong")
		fs.BoolVar(&kbFolds, "kb-folds", false, "no question file: ask each similar phrasing of the knowledge base, taken out of its entry, fold by fold")
	})
	if err != nil {
		return err
	}
	var items []bot.EvalItem
	switch {
	case kbFolds && len(rest) != 0:
		return usageError{errors.New("eval: --kb-folds asks the knowledge base's own phrasings: want no evaluation file")}
	case !kbFolds && len(rest) != 1:
		return usageError{errors.New("eval: want exactly one evaluation file (JSON lines), or --kb-folds")}
	case !kbFolds:
		f, err := os.Open(rest[0])
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		items, err = bot.ReadEval(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("eval: %s: %w", rest[0], err)
		}
	}
	var pack *content.Pack
	if kb != "" {
		pack, err = content.ReadPack(os.DirFS(kb))
	} else {
		pack, err = content.ReadPack(sample.FS)
	}
	if err != nil {
		return fmt.Errorf("eval: knowledge base: %w", err)
	}
	tmp, err := os.MkdirTemp("", "govlive-eval-")
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	defer os.RemoveAll(tmp)
	log := newLogger(cfg, stderr)
	if kbFolds {
		return evalFolds(ctx, cfg, pack, tmp, log, asJSON, verbose, stdout)
	}
	answers, err := askPack(ctx, cfg, pack, filepath.Join(tmp, "kb"), log, items)
	if err != nil {
		return err
	}
	rep := bot.Score(answers)
	if asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	printReport(stdout, rep, verbose)
	return nil
}

// askPack loads pack into a temporary store in dir, builds the search and
// the bot over it as ask does (openSearch) and the plain baseline over
// the same published entries, and asks them items.
func askPack(ctx context.Context, cfg config, pack *content.Pack, dir string, log *slog.Logger, items []bot.EvalItem) (answers []bot.Answer, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	db, err := store.Open(ctx, filepath.Join(dir, "govlive.db"))
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	cs, err := content.NewStore(ctx, db, time.Now)
	if err != nil {
		return nil, err
	}
	if _, err := cs.Import(ctx, pack, "eval", "评测用临时库"); err != nil {
		return nil, fmt.Errorf("eval: knowledge base: %w", err)
	}
	st, err := openSearch(ctx, cfg, cs, filepath.Join(dir, "index"), log)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.close()) }()
	faqs, _, err := cs.ListFAQ(ctx, content.FAQFilter{Status: content.StatusPublished}, content.Page{})
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	base, err := baseline.New(faqs, st.norm)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer func() { err = errors.Join(err, base.Close()) }()
	return bot.Ask(ctx, st.bot, st.index, base, items)
}

// foldReport is the report of eval --kb-folds: the figures of eval over
// the removed phrasings, the number of folds, and the figures over the
// same phrasings with their document swapped for another (bot.Swapper),
// each expecting decline.
type foldReport struct {
	bot.Report
	Folds int        `json:"folds"`
	Swaps bot.Report `json:"swaps"`
}

// evalFolds is eval --kb-folds: leave one phrasing out over the pack
// itself. Fold k takes the k-th similar phrasing out of every entry that
// has one, builds the search and the baseline over what is left and asks
// the phrasings taken out, each expecting its entry's answer; the answers
// of all folds are scored together. Each fold also asks the phrasings it
// took out that name a document with that document swapped for one the
// knowledge base is never asked about (bot.Swapper), expecting decline:
// the scope's mirror of the same questions.
func evalFolds(ctx context.Context, cfg config, pack *content.Pack, tmp string, log *slog.Logger, asJSON, verbose bool, stdout io.Writer) error {
	norm, err := retrieval.NewNormalizer()
	if err != nil {
		return err
	}
	seg, err := words.Load()
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	folds := bot.PhrasingFolds(pack.FAQ, norm.Normalize)
	swapper := bot.NewSwapper(seg, pack.FAQ, norm.Normalize)
	var answers, swapped []bot.Answer
	skipped := 0
	for k, f := range folds {
		skipped += len(f.Skipped)
		if len(f.Items) == 0 {
			continue
		}
		items := slices.Clone(f.Items)
		for _, it := range f.Items {
			if sw, ok := swapper.Swap(it); ok {
				items = append(items, sw)
			}
		}
		a, err := askPack(ctx, cfg, foldPack(pack, f), filepath.Join(tmp, fmt.Sprintf("fold%d", k+1)), log.With("fold", k+1), items)
		if err != nil {
			return fmt.Errorf("eval: fold %d: %w", k+1, err)
		}
		answers = append(answers, a[:len(f.Items)]...)
		swapped = append(swapped, a[len(f.Items):]...)
	}
	if len(answers) == 0 {
		return errors.New("eval: --kb-folds: the knowledge base has no similar phrasings to ask")
	}
	rep := foldReport{Report: bot.Score(answers), Folds: len(folds), Swaps: bot.Score(swapped)}
	if asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	fmt.Fprintf(stdout, "leave-one-phrasing-out over the knowledge base: %d folds, %d similar phrasings asked", rep.Folds, rep.N)
	if skipped > 0 {
		fmt.Fprintf(stdout, " (%d more repeat an entry's question and are not asked)", skipped)
	}
	fmt.Fprintln(stdout)
	printReport(stdout, rep.Report, verbose)
	printSwaps(stdout, rep.Swaps, swapper.Pool(), verbose)
	return nil
}

// printSwaps prints the figures of the swapped phrasings: how many were
// declined, answered and escalated.
func printSwaps(w io.Writer, r bot.Report, pool []string, verbose bool) {
	fmt.Fprintf(w, "\nswapped document (the phrasings above that name a document, with one the knowledge base is never asked about: %s…)\n",
		strings.Join(pool[:min(len(pool), 5)], "、"))
	row := r.Confusion[bot.ActionDecline]
	fmt.Fprintf(w, "questions           %d\n", r.N)
	fmt.Fprintf(w, "decline recall      %.3f (%d/%d; answered %d, escalated %d)\n", r.DeclineRecall, r.Declined, r.DeclineItems,
		row[bot.ActionAnswer], row[bot.ActionEscalate])
	if !verbose {
		return
	}
	fmt.Fprintln(w, "\nnot declined:")
	out := slices.Clone(r.Results)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Item.ID < out[j].Item.ID })
	for _, o := range out {
		if o.Decision.Action == bot.ActionDecline {
			continue
		}
		fmt.Fprintf(w, "  %s %q: decided %s (%s)", o.Item.ID, o.Item.Question, o.Decision.Action, o.Decision.Reason)
		if o.Decision.FAQ != nil {
			fmt.Fprintf(w, " %s", o.Decision.FAQ.ID)
		}
		fmt.Fprintln(w)
	}
}

// foldPack is a copy of pack with the FAQ entries of fold f; pack is not
// changed.
func foldPack(pack *content.Pack, f bot.Fold) *content.Pack {
	p := *pack
	p.FAQ = f.FAQ
	return &p
}

func printReport(w io.Writer, r bot.Report, verbose bool) {
	fmt.Fprintln(w, describeMode(r.Mode))
	fmt.Fprintf(w, "questions           %d (FAQ %d, document %d)\n", r.N, r.FAQItems, r.DocItems)
	// Beside each ranking figure, the baseline's and the lift over it.
	ranking := func(name string, got float64, base func(bot.Ranking) float64) {
		fmt.Fprintf(w, "%-20s%.3f", name, got)
		if r.Baseline != nil {
			b := base(*r.Baseline)
			fmt.Fprintf(w, "  (BM25 %.3f, %+.3f)", b, got-b)
		}
		fmt.Fprintln(w)
	}
	ranking("FAQ top-1", r.FAQTop1, func(b bot.Ranking) float64 { return b.Top1 })
	ranking("FAQ recall@3", r.FAQRecall3, func(b bot.Ranking) float64 { return b.Recall3 })
	ranking("FAQ MRR@10", r.FAQMRR10, func(b bot.Ranking) float64 { return b.MRR10 })
	fmt.Fprintf(w, "document hit@3      %.3f\n", r.DocHit3)
	fmt.Fprintf(w, "answered with the expected FAQ entry / document   %d/%d / %d/%d\n", r.FAQAnswered, r.FAQItems, r.DocAnswered, r.DocItems)
	fmt.Fprintf(w, "document answered   %.3f\n", r.DocAnsweredRate)
	fmt.Fprintf(w, "action accuracy     %.3f\n", r.ActionAccuracy)
	fmt.Fprintf(w, "escalate precision  %.3f\n", r.EscalatePrecision)
	fmt.Fprintf(w, "escalate recall     %.3f\n", r.EscalateRecall)
	fmt.Fprintf(w, "pii recall          %.3f (%d/%d)\n", r.PIIRecall, r.PIIEscalated, r.PIIItems)
	fmt.Fprintf(w, "decline recall      %.3f (%d/%d)\n", r.DeclineRecall, r.Declined, r.DeclineItems)
	fmt.Fprintf(w, "moderate recall     %.3f (%d/%d)\n", r.ModerateRecall, r.Moderated, r.ModerateItems)
	fmt.Fprintf(w, "clarify rate / hit  %.3f / %.3f (%d asked back)\n", r.ClarifyRate, r.ClarifyHit, r.Clarified)
	fmt.Fprintf(w, "latency p50 / p99   %.2f / %.2f ms\n", r.LatencyP50ms, r.LatencyP99ms)
	actions := []bot.Action{bot.ActionAnswer, bot.ActionEscalate, bot.ActionDecline, bot.ActionModerate}
	fmt.Fprintf(w, "\nconfusion (rows: expected, columns: decided)\n%-10s", "")
	for _, a := range actions {
		fmt.Fprintf(w, "%10s", a)
	}
	fmt.Fprintln(w)
	for _, want := range actions {
		fmt.Fprintf(w, "%-10s", want)
		for _, got := range actions {
			fmt.Fprintf(w, "%10d", r.Confusion[want][got])
		}
		fmt.Fprintln(w)
	}
	if !verbose {
		return
	}
	fmt.Fprintln(w, "\nwrong:")
	out := append([]bot.Outcome(nil), r.Results...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Item.ID < out[j].Item.ID })
	for _, o := range out {
		wrongFAQ := o.Item.Expect.FAQ != "" && o.FAQRank != 1
		if o.Decision.Action == o.Item.Expect.Action && !wrongFAQ {
			continue
		}
		fmt.Fprintf(w, "  %s %q: expected %s %s%s%s, decided %s (%s)", o.Item.ID, o.Item.Question,
			o.Item.Expect.Action, o.Item.Expect.FAQ, o.Item.Expect.Doc, o.Item.Expect.Reason, o.Decision.Action, o.Decision.Reason)
		if o.Item.Expect.FAQ != "" {
			fmt.Fprintf(w, ", FAQ rank %d", o.FAQRank)
		}
		fmt.Fprintln(w)
	}
}
