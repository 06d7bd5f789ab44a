package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"govlive/content"
	"govlive/content/contenttest"
)

func TestScratchMeasure(t *testing.T) {
	data := t.TempDir()
	p := startServe(t, data)
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cs, db, err := openContent(ctx, config{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	pack, err := contenttest.SyntheticPack(10000, 0)
	if err != nil {
		t.Fatal(err)
	}
	pack.Documents = nil
	st := time.Now()
	if _, err := cs.Import(ctx, pack, "x", ""); err != nil {
		t.Fatal(err)
	}
	t.Logf("import %s", time.Since(st))
	for i := 0; i < 3; i++ {
		st = time.Now()
		_, n, err := cs.ListFAQ(ctx, content.FAQFilter{Status: content.StatusPublished}, content.Page{Limit: 20, Offset: 40})
		t.Logf("page %s total %d err %v", time.Since(st), n, err)
		st = time.Now()
		_, n, err = cs.ListFAQ(ctx, content.FAQFilter{Status: content.StatusPublished}, content.Page{Limit: 20, Offset: 9000})
		t.Logf("page far %s total %d err %v", time.Since(st), n, err)
		st = time.Now()
		_, err = cs.FAQ(ctx, "faq-taxi-license-materials")
		t.Logf("by id %s", time.Since(st))
	}
	db.Close()
	_ = filepath.Join
	st = time.Now()
	p = startServe(t, data)
	t.Logf("start %s", time.Since(st))
	p.stop()
}
