package retrieval_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"govlive/content"
	"govlive/content/contenttest"
	"govlive/retrieval"
	"govlive/store/storetest"
)

// TestLoadAnswersFromPreviousIndex: after Load and before CatchUp, search
// answers from the lexical index as it was left — what it held is found,
// an entry added while it was closed is not yet — and after CatchUp the
// new entry is found too.
func TestLoadAnswersFromPreviousIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cs := contenttest.SampleStore(t)
	dir := t.TempDir()
	openClose(t, retrieval.Config{Dir: dir, Source: cs})
	putFAQ(t, cs, dogEntry(dogAnswerV1, content.StatusPublished))

	ix, err := retrieval.Load(ctx, retrieval.Config{Dir: dir, Source: cs, Normalizer: newNormalizer(t)})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(func() {
		if err := ix.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if ok, _, _ := ix.CaughtUp(); ok {
		t.Fatal("CaughtUp after Load with a revision not applied: got true")
	}
	if res := search(t, ix, retrieval.Query{Text: "周末有人吗"}); len(res.FAQ) == 0 || res.FAQ[0].ID != "faq-weekend" {
		t.Errorf("before CatchUp, Search(周末有人吗): %v, want faq-weekend first", hitIDs(res.FAQ))
	}
	if res := search(t, ix, retrieval.Query{Text: "养狗需要办理什么登记", K: 100}); rankOf(res.FAQ, string(dogID)) >= 0 {
		t.Errorf("before CatchUp, the entry added while closed is a hit: %v", hitIDs(res.FAQ))
	}
	if err := ix.CatchUp(ctx); err != nil {
		t.Fatalf("CatchUp: %v", err)
	}
	if ok, _, _ := ix.CaughtUp(); !ok {
		t.Error("CaughtUp after CatchUp: got false")
	}
	if res := search(t, ix, retrieval.Query{Text: "养狗需要办理什么登记"}); len(res.FAQ) == 0 || res.FAQ[0].ID != string(dogID) {
		t.Errorf("after CatchUp, Search(养狗需要办理什么登记): %v, want %s first", hitIDs(res.FAQ), dogID)
	}
}

// TestOpenLockedIndex: a second Open of a directory whose index another
// holder has open fails with ErrLocked within a few seconds instead of
// waiting for the lock.
func TestOpenLockedIndex(t *testing.T) {
	t.Parallel()
	cs := contenttest.SampleStore(t)
	dir := t.TempDir()
	openIndex(t, retrieval.Config{Dir: dir, Source: cs})
	done := make(chan error, 1)
	go func() {
		ix, err := retrieval.Open(context.Background(), retrieval.Config{Dir: dir, Source: cs, Normalizer: newNormalizer(t)})
		if err == nil {
			err = errors.Join(errors.New("opened"), ix.Close())
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, retrieval.ErrLocked) {
			t.Errorf("second Open: got %v, want ErrLocked", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("second Open still waiting after 30 s")
	}
}

// TestCatchUpCancelled: a catch-up stopped by its context returns the
// context's error, leaves the directory usable, and a later Open finds
// the same as a fresh build — for a catch-up that replaces items one by
// one and for one that rebuilds.
func TestCatchUpCancelled(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		nFAQ int // entries added while closed (the sample has 85)
	}{
		{"batch", 20},
		{"rebuild", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cs := contenttest.SampleStore(t)
			dir := t.TempDir()
			openClose(t, retrieval.Config{Dir: dir, Source: cs})
			p, err := contenttest.SyntheticPack(85+tt.nFAQ, 0)
			if err != nil {
				t.Fatal(err)
			}
			p.Documents = nil
			contenttest.Import(t, cs, p)
			ix, err := retrieval.Load(ctx, retrieval.Config{Dir: dir, Source: cs, Normalizer: newNormalizer(t)})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if err := ix.CatchUp(cctx); !errors.Is(err, context.Canceled) {
				t.Errorf("CatchUp with a cancelled context: got %v, want context.Canceled", err)
			}
			if err := ix.Close(); err != nil {
				t.Fatal(err)
			}
			ix = openIndex(t, retrieval.Config{Dir: dir, Source: cs})
			fresh := openIndex(t, retrieval.Config{Dir: filepath.Join(t.TempDir(), "fresh"), Source: cs})
			last := p.FAQ[len(p.FAQ)-1]
			for _, q := range []string{last.Question, "周末有人吗", "食品经营许可证新办要什么材料"} {
				got, want := search(t, ix, retrieval.Query{Text: q, K: 5}), search(t, fresh, retrieval.Query{Text: q, K: 5})
				if g, w := hitIDs(got.FAQ), hitIDs(want.FAQ); len(g) == 0 || g[0] != w[0] {
					t.Errorf("Search(%q) after the interrupted catch-up: %v, a fresh index: %v", q, g, w)
				}
			}
		})
	}
}

// TestOpenEmptyStore: an index over a store without content builds, on
// disk and in memory, and finds nothing; content added later is found
// after a Sync.
func TestOpenEmptyStore(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"disk", ""} {
		t.Run("dir="+dir, func(t *testing.T) {
			cs := contenttest.NewStore(t, storetest.Open(t), time.Now)
			if dir != "" {
				dir = filepath.Join(t.TempDir(), "index")
			}
			ix := openIndex(t, retrieval.Config{Dir: dir, Source: cs})
			if res := search(t, ix, retrieval.Query{Text: "养狗需要办理什么登记"}); len(res.FAQ)+len(res.Docs) != 0 {
				t.Errorf("empty store: hits %v %v", hitIDs(res.FAQ), hitIDs(res.Docs))
			}
			p, err := contenttest.SyntheticPack(85, 0)
			if err != nil {
				t.Fatal(err)
			}
			contenttest.Import(t, cs, p)
			mustSync(t, ix)
			if res := search(t, ix, retrieval.Query{Text: "周末有人吗"}); len(res.FAQ) == 0 || res.FAQ[0].ID != "faq-weekend" {
				t.Errorf("after the import: %v, want faq-weekend first", hitIDs(res.FAQ))
			}
		})
	}
}
