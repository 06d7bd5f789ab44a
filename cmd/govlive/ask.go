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
	"path/filepath"
	"strings"
	"time"

	"govlive/bot"
	"govlive/content"
	"govlive/retrieval"
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
	lx, err := cs.Lexicon(ctx)
	if err != nil {
		return fmt.Errorf("ask: lexicon: %w", err)
	}
	return printAnswer(stdout, studio.NewAskAnswer(d, lx.Replies), asJSON)
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
	printDecision(w, a.Mode, a.Reply, a.Decision, a.Search)
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

func printDecision(w io.Writer, mode, reply string, d bot.Decision, res *retrieval.Result) {
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
	if reply != "" {
		fmt.Fprintf(w, "回复：\n  %s\n", strings.ReplaceAll(reply, "\n", "\n  "))
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
