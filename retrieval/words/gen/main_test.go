package main

import (
	"bytes"
	"os"
	"testing"
)

// TestCurrent checks that the embedded dictionary is what the generator
// writes from the gse version in go.mod: the generator is deterministic
// and the file not stale. (It reads 11 MB of dictionaries: skipped with
// -short.)
func TestCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("reads gse's full dictionaries")
	}
	dir, err := moduleDir()
	if err != nil {
		t.Skipf("gse not in the module cache: %v", err)
	}
	var got bytes.Buffer
	if _, _, err := generate(&got, dir, defaults); err != nil {
		t.Fatalf("generate: %v", err)
	}
	committed, err := os.ReadFile("../dict.txt.gz")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), committed) {
		t.Errorf("dict.txt.gz (%d bytes) is not what gen writes (%d bytes): run go generate ./retrieval/words", len(committed), got.Len())
	}
}
