package main

import (
	"bytes"
	"os"
	"testing"
)

// TestCurrent checks that the embedded dictionary is what the generator
// writes from the gse version in go.mod: deterministic and not stale.
func TestCurrent(t *testing.T) {
	dir, err := moduleDir()
	if err != nil {
		t.Skipf("gse not in the module cache: %v", err)
	}
	var a, b bytes.Buffer
	if _, _, err := generate(&a, dir, defaults); err != nil {
		t.Fatalf("generate: %v", err)
	}
	if _, _, err := generate(&b, dir, defaults); err != nil {
		t.Fatalf("generate again: %v", err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatalf("two runs wrote different files (%d and %d bytes)", a.Len(), b.Len())
	}
	committed, err := os.ReadFile("../dict.txt.gz")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), committed) {
		t.Errorf("dict.txt.gz (%d bytes) is not what gen writes (%d bytes): run go generate ./retrieval/words", len(committed), a.Len())
	}
}
