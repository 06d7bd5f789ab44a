package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"govlive/bot"
	"govlive/content"
	"govlive/content/sample"
	"govlive/store"
)

func evalCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		kb      string
		asJSON  bool
		verbose bool
	)
	cfg, rest, err := parseConfig("eval", args, getenv, stdout, " FILE", func(fs *flag.FlagSet) {
		fs.StringVar(&kb, "kb", "", "content pack to answer from (default: the built-in sample pack), loaded into a temporary store")
		fs.BoolVar(&asJSON, "json", false, "print the figures as one JSON object")
		fs.BoolVar(&verbose, "verbose", false, "also list every question whose action or FAQ entry was wrong")
	})
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError{errors.New("eval: want exactly one evaluation file (JSON lines)")}
	}
	f, err := os.Open(rest[0])
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	items, err := bot.ReadEval(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("eval: %s: %w", rest[0], err)
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
	db, err := store.Open(ctx, filepath.Join(tmp, "govlive.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	cs, err := content.NewStore(ctx, db, time.Now)
	if err != nil {
		return err
	}
	if _, err := cs.Import(ctx, pack, "eval", "评测用临时库"); err != nil {
		return fmt.Errorf("eval: knowledge base: %w", err)
	}
	log := newLogger(cfg, stderr)
	st, err := openSearch(ctx, cfg, cs, filepath.Join(tmp, "index"), log)
	if err != nil {
		return err
	}
	defer st.close()
	rep, err := bot.Evaluate(ctx, st.bot, st.index, items)
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	printReport(stdout, rep, verbose)
	return nil
}

func printReport(w io.Writer, r bot.Report, verbose bool) {
	fmt.Fprintln(w, describeMode(r.Mode))
	fmt.Fprintf(w, "questions           %d (FAQ %d, document %d)\n", r.N, r.FAQItems, r.DocItems)
	fmt.Fprintf(w, "FAQ top-1           %.3f\n", r.FAQTop1)
	fmt.Fprintf(w, "FAQ recall@3        %.3f\n", r.FAQRecall3)
	fmt.Fprintf(w, "FAQ MRR@10          %.3f\n", r.FAQMRR10)
	fmt.Fprintf(w, "document hit@3      %.3f\n", r.DocHit3)
	fmt.Fprintf(w, "answered with the expected FAQ entry / document   %d/%d / %d/%d\n", r.FAQAnswered, r.FAQItems, r.DocAnswered, r.DocItems)
	fmt.Fprintf(w, "action accuracy     %.3f\n", r.ActionAccuracy)
	fmt.Fprintf(w, "escalate precision  %.3f\n", r.EscalatePrecision)
	fmt.Fprintf(w, "escalate recall     %.3f\n", r.EscalateRecall)
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
