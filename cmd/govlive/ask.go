package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"govlive/bot"
	"govlive/content"
	"govlive/content/sample"
	"govlive/retrieval"
	"govlive/store"
	"govlive/studio"
)

func askCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		session string
		segment int
		asJSON  bool
	)
	cfg, rest, err := parseConfig("ask", args, getenv, stdout, ` "问题"`, func(fs *flag.FlagSet) {
		fs.StringVar(&session, "session", "", "session whose current segment scopes the search")
		fs.IntVar(&segment, "segment", 0, "current segment of the session, from 1")
		fs.BoolVar(&asJSON, "json", false, "print the decision as JSON")
	})
	if err != nil {
		return err
	}
	if len(rest) == 0 || strings.TrimSpace(strings.Join(rest, " ")) == "" {
		return usageError{errors.New(`ask: want a question, e.g. govlive ask "食品证要什么材料"`)}
	}
	if segment < 0 || (segment > 0 && session == "") {
		return usageError{errors.New("ask: --segment needs --session and counts from 1")}
	}
	question := strings.Join(rest, " ")
	// Beside a running serve the data directory is taken: ask that server
	// rather than wait for its index.
	lock, err := lockData(cfg.Data, "ask")
	var inUse *dataInUseError
	if errors.As(err, &inUse) && inUse.info.Command == "serve" && inUse.info.URL != "" {
		return askServer(ctx, inUse.info.URL, studio.AskRequest{Question: question, Session: session, Segment: segment}, asJSON, stdout)
	}
	if err != nil {
		return fmt.Errorf("ask: %w", err)
	}
	defer lock.release()
	log := newLogger(cfg, stderr)
	cs, db, err := openContent(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if session != "" {
		ss, err := cs.Session(ctx, content.SessionID(session))
		if errors.Is(err, content.ErrNotFound) {
			return fmt.Errorf("ask: no session %q: %w", session, content.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("ask: %w", err)
		}
		if segment > len(ss.Segments) {
			return usageError{fmt.Errorf("ask: session %s has %d segments, not %d", session, len(ss.Segments), segment)}
		}
	}
	st, err := openSearch(ctx, cfg, cs, filepath.Join(cfg.Data, "index"), log)
	if err != nil {
		return err
	}
	defer st.close()
	d, err := st.bot.Explain(ctx, bot.Message{Text: question, Session: content.SessionID(session), Segment: segment})
	if err != nil {
		return err
	}
	return printAnswer(stdout, studio.AskAnswer{Mode: d.Search.Mode, Decision: d}, asJSON)
}

// printAnswer prints a decision as ask does, as text or JSON. The mode is
// what the search really did (a failing embedder falls back to lexical).
func printAnswer(w io.Writer, a studio.AskAnswer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(a)
	}
	printDecision(w, a.Mode, a.Decision, a.Search)
	return nil
}

// askServer asks the running serve at base (its URL from the data
// directory's lock) and prints its answer like a local ask.
func askServer(ctx context.Context, base string, q studio.AskRequest, asJSON bool, stdout io.Writer) error {
	body, err := json.Marshal(q)
	if err != nil {
		return err
	}
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("ask: server URL %q: %w", base, err)
	}
	// A server listening on every address is asked on loopback.
	host, port, _ := net.SplitHostPort(u.Host)
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		u.Host = net.JoinHostPort("127.0.0.1", port)
	}
	u.Path = "/api/ask"
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	// This is our own server, found through our data directory: its
	// certificate may name another host than the loopback address.
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: u.Scheme == "https"}} //nolint:gosec
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("ask: the data directory is in use by govlive serve at %s, which did not answer: %w", base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("ask: read the answer of %s: %w", base, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		if e.Error == "" {
			e.Error = resp.Status
		}
		return fmt.Errorf("ask: govlive serve at %s: %s", base, e.Error)
	}
	var a studio.AskAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("ask: answer of %s: %w", base, err)
	}
	if a.Search == nil {
		return fmt.Errorf("ask: answer of %s carries no search result", base)
	}
	if !asJSON {
		fmt.Fprintf(stdout, "（由运行中的 govlive serve %s 作答）\n", base)
	}
	return printAnswer(stdout, a, asJSON)
}

func printDecision(w io.Writer, mode string, d bot.Decision, res *retrieval.Result) {
	fmt.Fprintln(w, describeMode(mode))
	for _, warn := range res.Warnings {
		fmt.Fprintln(w, "注意："+warningText(warn))
	}
	fmt.Fprintf(w, "决定：%s  原因：%s  置信度：%.2f\n", d.Action, d.Reason, d.Confidence)
	if d.Cue != "" {
		fmt.Fprintf(w, "命中提示词：%s\n", d.Cue)
	}
	if d.Intent != nil {
		fmt.Fprintf(w, "例句分类：%s（概率 %.2f）\n", d.Intent.Class, d.Intent.P)
	}
	if len(d.PII) > 0 {
		fmt.Fprintf(w, "个人信息：%d 处，已遮盖为：%s\n", len(d.PII), d.Masked)
	}
	if d.Reply != "" {
		fmt.Fprintf(w, "回复：\n  %s\n", strings.ReplaceAll(d.Reply, "\n", "\n  "))
	} else {
		fmt.Fprintln(w, "回复：（不回复，评论隐藏）")
	}
	fmt.Fprintln(w, "FAQ 命中：")
	for i, h := range res.FAQ {
		fmt.Fprintf(w, "  %d. %-34s 置信度 %.2f  词面 %.2f  BM25 %.1f", i+1, h.ID, h.Confidence, h.Lexical, h.BM25)
		if h.Vector != 0 {
			fmt.Fprintf(w, "  向量 %.2f", h.Vector)
		}
		if h.InScope {
			fmt.Fprint(w, "  [本环节]")
		}
		fmt.Fprintf(w, "\n     问：%s  匹配：%s\n", h.FAQ.Question, strings.Join(h.Spans, "、"))
	}
	fmt.Fprintln(w, "文档命中：")
	for i, h := range res.Docs {
		fmt.Fprintf(w, "  %d. %s  置信度 %.2f  词面 %.2f  BM25 %.1f", i+1, h.Citation(), h.Confidence, h.Lexical, h.BM25)
		if h.InScope {
			fmt.Fprint(w, "  [本环节]")
		}
		fmt.Fprintf(w, "\n     匹配：%s\n", strings.Join(h.Spans, "、"))
	}
}

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

// warningText words a search warning for the person asking.
func warningText(w retrieval.Warning) string {
	switch w.Code {
	case retrieval.WarnVectorsBackoff:
		return "向量检索暂不可用，仅用关键词检索"
	case retrieval.WarnVectorsFailed:
		return "向量检索不可用，仅用关键词检索：" + w.Detail
	case retrieval.WarnVectorsEmpty:
		return "向量索引为空，仅用关键词检索"
	}
	return w.String()
}
