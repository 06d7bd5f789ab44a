// Command gen writes the trimmed dictionary that package words embeds
// (dict.txt.gz) from jieba's simplified-Chinese dictionary and IDF table
// as github.com/go-ego/gse ships them (data/dict/zh/s_1.txt, idf.txt; in
// the module cache, found with go list -m): every single character, the
// words of two or more characters the corpus saw at least minFreq times,
// and rarer nouns that several documents of the IDF corpus still have
// (社保卡, 行驶证, 健康证) — each with its frequency, part of speech and
// IDF — sorted, so that the same input gives the same file. Run it with
// go generate in retrieval/words. gse's own LoadDict (350k simplified
// words and the traditional dictionary) takes about 5 s and 190 MB.
package main

import (
	"bufio"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

const gseModule = "github.com/go-ego/gse"

// The trimming that dict.txt.gz was written with.
var defaults = params{minFreq: 10, nounDF: 4}

// params say which words are kept.
type params struct {
	minFreq float64 // lowest corpus frequency of a word of two or more characters
	nounDF  float64 // a rarer noun is kept when at least this many documents of the IDF corpus have it
}

func main() {
	out := flag.String("o", "dict.txt.gz", "output file")
	dir := flag.String("gse", "", "gse module directory (default: go list -m "+gseModule+")")
	p := defaults
	flag.Float64Var(&p.minFreq, "minfreq", p.minFreq, "lowest corpus frequency of a word of two or more characters")
	flag.Float64Var(&p.nounDF, "noundf", p.nounDF, "a rarer noun is kept when at least this many documents of the IDF corpus have it")
	flag.Parse()
	if err := run(*out, *dir, p); err != nil {
		log.Fatal(err)
	}
}

func run(out, dir string, p params) error {
	if dir == "" {
		var err error
		if dir, err = moduleDir(); err != nil {
			return err
		}
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	n, total, err := generate(f, dir, p)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	log.Printf("%s: %d words of %d", out, n, total)
	return nil
}

// moduleDir asks the go command where gse is in the module cache.
func moduleDir() (string, error) {
	b, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", gseModule).Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", gseModule, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// nounTags are jieba's parts of speech that words.Salient counts as nouns
// (the same as package words's).
var nounTags = map[string]bool{"n": true, "nr": true, "nrfg": true, "nrt": true, "ns": true, "nt": true,
	"nz": true, "ng": true, "vn": true, "an": true, "j": true}

type entry struct {
	word, pos string
	freq      float64
	idf       float64 // 0: not in the table
}

// generate writes the trimmed dictionary from gse's files in dir to w,
// gzipped; it returns how many words it kept of how many.
func generate(out io.Writer, dir string, p params) (kept, total int, err error) {
	version, err := moduleVersion(dir)
	if err != nil {
		return 0, 0, err
	}
	idf, err := readIDF(filepath.Join(dir, "data", "dict", "zh", "idf.txt"))
	if err != nil {
		return 0, 0, err
	}
	// The IDF of a word in n of the corpus's N documents is ln(N/n); the
	// rarest words (one document) have the largest value.
	var maxIDF float64
	for _, v := range idf {
		maxIDF = max(maxIDF, v)
	}
	// ln(N/nounDF) = ln(N) − ln(nounDF), with ln(N) ≈ maxIDF.
	nounIDF := maxIDF - math.Log(p.nounDF) + 1e-6
	entries, err := readDict(filepath.Join(dir, "data", "dict", "zh", "s_1.txt"))
	if err != nil {
		return 0, 0, err
	}
	var keep []entry
	seen := map[string]bool{}
	for _, e := range entries {
		e.idf = idf[e.word]
		long := utf8.RuneCountInString(e.word) >= 2
		rareNoun := nounTags[e.pos] && e.idf > 0 && e.idf <= nounIDF
		if long && e.freq < p.minFreq && !rareNoun {
			continue
		}
		// The segmenter looks words up in lower case; the first of two
		// spellings wins, as in gse.
		key := strings.ToLower(e.word)
		if seen[key] {
			continue
		}
		seen[key] = true
		e.word = key
		keep = append(keep, e)
	}
	sort.Slice(keep, func(i, j int) bool { return keep[i].word < keep[j].word })
	// Words the table lacks get its median, as jieba's keyword extraction does.
	all := make([]float64, 0, len(idf))
	for _, v := range idf {
		all = append(all, v)
	}
	slices.Sort(all)
	median := all[len(all)/2]

	zw, err := gzip.NewWriterLevel(out, gzip.BestCompression)
	if err != nil {
		return 0, 0, err
	}
	zw.Comment = "jieba dictionary (MIT) via gse " + version + " (Apache-2.0); see NOTICE"
	w := bufio.NewWriter(zw)
	fmt.Fprintf(w, "# Trimmed from jieba's dictionary and IDF table (https://github.com/fxsjy/jieba, MIT License)\n")
	fmt.Fprintf(w, "# as distributed in %s %s (Apache License 2.0), by retrieval/words/gen:\n", gseModule, version)
	fmt.Fprintf(w, "# words of 2+ characters with frequency >= %g, nouns seen in >= %g documents, all single characters.\n", p.minFreq, p.nounDF)
	fmt.Fprintf(w, "# word<TAB>frequency<TAB>part of speech<TAB>IDF (empty: not in the table)\n")
	fmt.Fprintf(w, "#default-idf\t%.2f\n", median)
	fmt.Fprintf(w, "#words\t%d\n", len(keep))
	for _, e := range keep {
		idf := ""
		if e.idf > 0 {
			idf = strconv.FormatFloat(e.idf, 'f', 2, 64)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", e.word, strconv.FormatFloat(e.freq, 'f', -1, 64), e.pos, idf)
	}
	if err := w.Flush(); err != nil {
		return 0, 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, 0, err
	}
	return len(keep), len(entries), nil
}

// moduleVersion reads the version from the module directory's name
// (…/gse@v0.80.3).
func moduleVersion(dir string) (string, error) {
	_, v, ok := strings.Cut(filepath.Base(dir), "@")
	if !ok {
		return "", fmt.Errorf("%s: not a module cache directory (no @version)", dir)
	}
	return v, nil
}

func readIDF(path string) (map[string]float64, error) {
	out := map[string]float64{}
	err := eachLine(path, func(n int, fields []string) error {
		if len(fields) != 2 {
			return fmt.Errorf("want word and IDF, got %q", fields)
		}
		v, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			return err
		}
		if _, dup := out[fields[0]]; !dup {
			out[fields[0]] = v
		}
		return nil
	})
	return out, err
}

func readDict(path string) ([]entry, error) {
	var out []entry
	err := eachLine(path, func(n int, fields []string) error {
		if len(fields) != 3 {
			return fmt.Errorf("want word, frequency and part of speech, got %q", fields)
		}
		freq, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			return err
		}
		out = append(out, entry{word: fields[0], freq: freq, pos: fields[2]})
		return nil
	})
	return out, err
}

func eachLine(path string, f func(n int, fields []string) error) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	r := bufio.NewReader(file)
	for n := 1; ; n++ {
		line, err := r.ReadString('\n')
		if fields := strings.Fields(line); len(fields) > 0 {
			if ferr := f(n, fields); ferr != nil {
				return fmt.Errorf("%s line %d: %w", path, n, ferr)
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}
