package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"govlive/content"
)

func actorFlag(actor *string, getenv func(string) string) func(fs *flag.FlagSet) {
	def := "cli"
	if u := getenv("USER"); u != "" {
		def = "cli:" + u
	}
	return func(fs *flag.FlagSet) {
		fs.StringVar(actor, "actor", def, "who the recorded revisions name as the editor")
	}
}

func packDir(cmd string, rest []string) (string, error) {
	if len(rest) != 1 {
		return "", usageError{fmt.Errorf("%s: want exactly one pack folder, got %d arguments", cmd, len(rest))}
	}
	return rest[0], nil
}

func importCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var actor string
	cfg, rest, err := parseConfig("import", args, getenv, stdout, " PACK_DIR", actorFlag(&actor, getenv))
	if err != nil {
		return err
	}
	dir, err := packDir("import", rest)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("import: %s is not a folder", dir)
	}
	p, err := content.ReadPack(os.DirFS(dir))
	if err != nil {
		return fmt.Errorf("import: %s: %w", dir, err)
	}
	cs, db, err := openContent(ctx, cfg)
	if err != nil {
		return err
	}
	rep, err := cs.Import(ctx, p, actor, "导入 "+dir)
	if cerr := db.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	for _, k := range []struct {
		name string
		c    content.ImportCounts
	}{{"faq", rep.FAQ}, {"documents", rep.Documents}, {"sessions", rep.Sessions}} {
		fmt.Fprintf(stdout, "%-10s created %d, updated %d, unchanged %d\n", k.name, k.c.Created, k.c.Updated, k.c.Unchanged)
	}
	return nil
}

func exportCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, rest, err := parseConfig("export", args, getenv, stdout, " PACK_DIR", nil)
	if err != nil {
		return err
	}
	dir, err := packDir("export", rest)
	if err != nil {
		return err
	}
	cs, db, err := openContent(ctx, cfg)
	if err != nil {
		return err
	}
	p, err := cs.Export(ctx)
	if cerr := db.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return err
	}
	if err := content.WritePack(dir, p); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d faq, %d documents, %d sessions to %s\n", len(p.FAQ), len(p.Documents), len(p.Sessions), dir)
	return nil
}
