// Command govlive runs government-service livestreams: the content store,
// the web studio and (in later parts) the relay and the chat bot. It is the
// only place where configuration is read and the parts are wired together.
//
//	govlive [serve] [--data DIR] [--addr HOST:PORT]   serve the studio (default)
//	govlive import [--data DIR] PACK_DIR              import a content pack
//	govlive export [--data DIR] PACK_DIR              export the content as a pack
//	govlive user add --role admin NAME                add a staff account (password from a prompt or stdin)
//
// Run "govlive help" or "govlive COMMAND -h" for every flag.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"govlive/content"
	"govlive/store"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	// The first SIGINT or SIGTERM cancels ctx: every command stops what it
	// is doing (serve shuts down gracefully). A second one ends the process
	// at once.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		cancel()
		fmt.Fprintf(os.Stderr, "govlive: %s: stopping (send it again to stop at once)\n", sig)
		sig = <-sigs
		fmt.Fprintf(os.Stderr, "govlive: %s again: stopped at once\n", sig)
		os.Exit(130)
	}()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	cancel()
	switch {
	case err == nil, errors.Is(err, errHelp):
	case errors.As(err, new(usageError)):
		fmt.Fprintf(os.Stderr, "govlive: %v\n", err)
		os.Exit(2)
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "govlive: interrupted")
		os.Exit(130)
	default:
		fmt.Fprintf(os.Stderr, "govlive: %v\n", err)
		os.Exit(1)
	}
}

// commands describes each subcommand for the help text.
var commands = map[string]string{
	"serve":       "Serve the studio web application and its JSON API until SIGINT or SIGTERM.\nOn first start (a store that never held content) the built-in sample pack is imported.",
	"import":      "Import a content pack folder (faq.jsonl, docs/*.md, sessions/*.yaml) in one transaction.\nNew items are created, changed ones updated with a revision, items the pack lacks are kept.\nA bad pack changes nothing and the error names the file and line.",
	"export":      "Export all content into a pack folder (created if missing). Importing it again changes nothing.",
	"ask":         "Ask the bot one question and print its decision, its reply and the best search hits with scores and citations.\nUses the content and index of the data directory; --session and --segment scope the search to a run-sheet segment.",
	"bench-api":   "Measure the read API under load: start serve pinned to one core, send rounds of N simultaneous requests\nfrom the other; print latency p50/p99, RSS and the files open on the database before, during and after.",
	"bench-relay": "Measure the relay: start serve pinned to one core, one publisher and N viewers over loopback;\nprint delivery, added latency p50/p99, CPU seconds per viewer-second and RSS for each N.",
	"token":       "Issue (token issue --session ID --anchor NAME) or revoke (token revoke …) an anchor's publishing token.\nThe new token is printed alone on the last line, once; only its hash is stored.",
	"user": "Manage the staff accounts: user add --role ROLE NAME, user list, user passwd NAME, user disable|enable NAME,\n" +
		"user roles --role ROLE NAME, user link --session ID --anchor ANCHOR NAME (the user is that anchor of the session),\n" +
		"user unlink --session ID --anchor ANCHOR, user unlock NAME (forget failed logins). Roles: admin, editor, anchor,\n" +
		"moderator (场控); repeat --role or separate with commas. add and passwd ask for the password twice on a terminal,\n" +
		"or read one line from stdin; never from a flag. Runs beside a running serve.",
	"eval": "Answer every question of an evaluation file (JSON lines, the format of questions-dev.jsonl) against the built-in\nsample pack (or --kb DIR) in a temporary store, and print FAQ top-1, recall@3, MRR@10 (each beside a plain BM25\nbaseline's and the lift over it), document hit@3, action accuracy with a confusion matrix, escalation precision\nand recall, decline, moderation and personal-data recall, and latency. --kb-folds needs no file: it asks each\nsimilar phrasing of the knowledge base, taken out of its entry, fold by fold.",
}

// run is govlive's main, with its inputs and outputs passed in so that
// tests can call it; stdin is the process's.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runIO(ctx, args, getenv, os.Stdin, stdout, stderr)
}

// runIO is run with stdin passed in too (the user command reads
// passwords from it).
func runIO(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serveCmd(ctx, args, getenv, stdout, stderr)
	case "import":
		err = importCmd(ctx, args, getenv, stdout, stderr)
	case "export":
		err = exportCmd(ctx, args, getenv, stdout, stderr)
	case "ask":
		err = askCmd(ctx, args, getenv, stdout, stderr)
	case "eval":
		err = evalCmd(ctx, args, getenv, stdout, stderr)
	case "token":
		err = tokenCmd(ctx, args, getenv, stdout, stderr)
	case "user":
		err = userCmd(ctx, args, getenv, stdin, stdout, stderr)
	case "bench-relay":
		err = benchRelayCmd(ctx, args, getenv, stdout, stderr)
	case "bench-api":
		err = benchAPICmd(ctx, args, getenv, stdout, stderr)
	case "help":
		printCommands(stdout)
		return nil
	default:
		printCommands(stderr)
		return usageError{fmt.Errorf("unknown command %q", cmd)}
	}
	// Every error names its command first: "govlive: import: …".
	if err != nil && !errors.Is(err, errHelp) && !strings.HasPrefix(err.Error(), cmd+":") && !strings.HasPrefix(err.Error(), cmd+" ") {
		err = fmt.Errorf("%s: %w", cmd, err)
	}
	return err
}

func printCommands(w io.Writer) {
	fmt.Fprintln(w, "govlive — 政务直播: livestreams, chat bot and content for a government service center.")
	fmt.Fprintln(w, "\nusage: govlive COMMAND [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, firstLine(commands[n]))
	}
	fmt.Fprintln(w, "\nWith no command, govlive serves. \"govlive COMMAND -h\" lists the flags of a command.")
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	level, _ := parseLevel(cfg.LogLevel) // checked by validate
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openContent opens the database in the data directory (store.Open
// creates both if needed) and the content store on it. The caller closes
// the returned database.
func openContent(ctx context.Context, cfg config) (*content.Store, *store.DB, error) {
	db, err := store.Open(ctx, filepath.Join(cfg.Data, "govlive.db"))
	if err != nil {
		return nil, nil, err
	}
	cs, err := content.NewStore(ctx, db, time.Now)
	if err != nil {
		return nil, nil, errors.Join(err, db.Close())
	}
	return cs, db, nil
}
