package words

import (
	"bytes"
	"compress/gzip"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestLoad(t *testing.T) {
	s := mustLoad(t)
	again := mustLoad(t)
	if s != again {
		t.Errorf("Load twice: got two segmenters, want the same one")
	}
	if n := s.words(); n < 100_000 || n > 200_000 {
		t.Errorf("dictionary has %d words, want 100k–200k", n)
	}
	if got := s.DefaultIDF(); got < 10 || got > 13 {
		t.Errorf("DefaultIDF() = %.2f, want the table's median, about 12", got)
	}
	for _, tc := range []struct {
		word    string
		ok      bool
		noun    bool
		idfLow  float64
		idfHigh float64
	}{
		{"结婚证", true, true, 9.5, 10.5},
		{"户口", true, true, 7.5, 8.5},
		{"办理", true, true, 6, 7}, // tagged n, but common: Salient drops it by IDF
		{"怎么", true, false, 4, 5},
		{"补办", true, false, 10, 12},
		{"社保卡", true, true, 11, 12}, // rare, kept as a noun several documents have
		{"网约车", false, false, 11, 13},
	} {
		w, ok := s.Lookup(tc.word)
		if ok != tc.ok || w.Noun != tc.noun || w.IDF < tc.idfLow || w.IDF > tc.idfHigh || w.Text != tc.word {
			t.Errorf("Lookup(%q) = %+v, %v; want noun %v, IDF in [%g, %g], %v",
				tc.word, w, ok, tc.noun, tc.idfLow, tc.idfHigh, tc.ok)
		}
	}
}

// TestParseDeterministic reads the embedded dictionary again: the same
// words, frequencies and IDFs as Load's, and the same cuts.
func TestParseDeterministic(t *testing.T) {
	a := mustLoad(t)
	b, err := parse(dictGz)
	if err != nil {
		t.Fatal(err)
	}
	x, y := a.dict, b.dict
	if x.total != y.total || !bytes.Equal(x.text, y.text) || !slices.Equal(x.off, y.off) || !slices.Equal(x.n, y.n) ||
		!slices.Equal(x.freq, y.freq) || !slices.Equal(x.tag, y.tag) || !slices.Equal(x.idf, y.idf) ||
		!slices.Equal(x.tags, y.tags) || !slices.Equal(a.noun, b.noun) {
		t.Fatalf("two parses: %d words (total %g) and %d (%g), or other frequencies, tags or IDFs",
			a.words(), x.total, b.words(), y.total)
	}
	for _, f := range every(sampleFields(t), 4) {
		if x, y := a.Cut(f), b.Cut(f); !slices.Equal(x, y) {
			t.Fatalf("Cut(%q): %v and %v", f, x, y)
		}
	}
}

func TestParseErrors(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"not gzip", []byte("结婚证\t43\tn\t10.09\n")},
		{"empty", gz("")},
		{"no header", gz("结婚证\t43\tn\t10.09\n")},
		{"no words", gz("#default-idf\t11.95\n#words\t1\n")},
		{"too few fields", gz("#default-idf\t11.95\n#words\t1\n结婚证\t43\n")},
		{"bad frequency", gz("#default-idf\t11.95\n#words\t1\n结婚证\tx\tn\t10.09\n")},
		{"bad IDF", gz("#default-idf\t11.95\n#words\t1\n结婚证\t43\tn\tx\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parse(tc.data); !errors.Is(err, ErrDictionary) {
				t.Errorf("parse: got %v, want ErrDictionary", err)
			}
		})
	}
}

// words counts the dictionary's words (not the beginnings of words).
func (s *Segmenter) words() int {
	n := 0
	for _, f := range s.dict.freq {
		if f > 0 {
			n++
		}
	}
	return n
}

// every returns every k-th of xs.
func every[T any](xs []T, k int) []T {
	var out []T
	for i := 0; i < len(xs); i += k {
		out = append(out, xs[i])
	}
	return out
}

func texts(ws []Word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Text
	}
	return out
}

// TestCut cuts the sample knowledge base's matters and questions about
// others as a reader would.
func TestCut(t *testing.T) {
	s := mustLoad(t)
	for _, tc := range []struct{ text, want string }{
		{"新办食品经营许可证需要准备哪些材料", "新办/食品/经营/许可证/需要/准备/哪些/材料"},
		{"食品生产许可证现场核查", "食品/生产/许可证/现场/核查"},
		{"巡游出租汽车驾驶员从业资格证", "巡游/出租汽车/驾驶员/从业/资格证"},
		{"网约车驾驶员证", "网约车/驾驶员/证"}, // 网约车: the HMM's
		{"政务服务中心综合受理窗口", "政务/服务中心/综合/受理/窗口"},
		{"营业执照等主体资格证明", "营业执照/等/主体资格/证明"},
		{"同城通办试点乡镇", "同城/通办/试点/乡镇"},
		{"结婚证丢了怎么补办", "结婚证/丢/了/怎么/补办"},
		{"我要开个体工商户要什么材料", "我要/开/个体/工商户/要/什么/材料"},
		{"户口迁移去哪办", "户口/迁移/去/哪办"},
		{"sc证到期 怎么延续", "sc/证/到期/怎么/延续"},
		{"投诉举报电话12345", "投诉/举报/电话/12345"},
		{"", ""},
	} {
		if got := strings.Join(texts(s.Cut(tc.text)), "/"); got != tc.want {
			t.Errorf("Cut(%q) = %s, want %s", tc.text, got, tc.want)
		}
	}
}

func TestSalient(t *testing.T) {
	s := mustLoad(t)
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"结婚证丢了怎么补办", []string{"结婚证"}},
		{"身份证丢了怎么补办", []string{"身份证"}},
		{"我要开个体工商户要什么材料", []string{"个体", "工商户"}},
		{"公积金怎么提取", []string{"公积金"}},
		{"户口迁移去哪办", []string{"户口"}},
		{"社保卡丢了", []string{"社保卡"}},
		{"食品经营许可证延续要提前多久", []string{"许可证"}},  // 食品, 经营: too common
		{"办理食品经营许可证需要什么材料", []string{"许可证"}}, // not 办理, 材料
		{"出租车驾驶员证丢了怎么补办", []string{"出租车", "驾驶员"}},
		{"结婚证 结婚证补办", []string{"结婚证"}}, // once
		{"怎么办理 需要什么 什么时候能办好", nil},
		{"同城通办", nil}, // the dictionary's path is characters; the HMM's 同城 is not taken
		{"sc证", nil},
	} {
		if got := texts(s.Salient(tc.text)); !slices.Equal(got, tc.want) && len(got)+len(tc.want) > 0 {
			t.Errorf("Salient(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestSearch(t *testing.T) {
	s := mustLoad(t)
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"公积金提取", []string{"公积", "公积金", "提取", "积金"}},
		{"个体工商户营业执照", []string{"个体", "商户", "执照", "工商", "工商户", "营业", "营业执照"}},
		{"同城通办", []string{"办", "同", "城", "通"}},
		{"sc证 12345", []string{"12345", "sc", "证"}},
	} {
		slices.Sort(tc.want) // byte order
		if got := s.Search(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("Search(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
	// Whatever Salient finds in a text, Search has.
	for _, f := range sampleFields(t) {
		all := s.Search(f)
		for _, w := range s.Salient(f) {
			if _, ok := slices.BinarySearch(all, w.Text); !ok {
				t.Errorf("Salient(%q) has %q, Search does not (%q)", f, w.Text, all)
			}
		}
	}
}

// TestConcurrent cuts the sample pack on several goroutines at once (run
// with -race): the same words as one after the other.
func TestConcurrent(t *testing.T) {
	s := mustLoad(t)
	fields := every(sampleFields(t), 5)
	type result struct {
		cut, salient, search []string
	}
	do := func(f string) result {
		return result{texts(s.Cut(f)), texts(s.Salient(f)), s.Search(f)}
	}
	want := make([]result, len(fields))
	for i, f := range fields {
		want[i] = do(f)
	}
	var wg sync.WaitGroup
	const n = 4
	errs := make(chan string, n)
	for g := range n {
		wg.Go(func() {
			for i := range fields {
				j := (i + g*len(fields)/n) % len(fields) // each starts elsewhere
				got := do(fields[j])
				if !slices.Equal(got.cut, want[j].cut) || !slices.Equal(got.salient, want[j].salient) ||
					!slices.Equal(got.search, want[j].search) {
					errs <- fields[j]
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for f := range errs {
		t.Errorf("concurrent cut of %q differs from the sequential one", f)
	}
}

// BenchmarkLoad reads the embedded dictionary: time per load and the heap
// it keeps.
func BenchmarkLoad(b *testing.B) {
	var heap float64
	for b.Loop() {
		b.StopTimer()
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		b.StartTimer()
		s, err := parse(dictGz)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&m1)
		heap = float64(m1.HeapAlloc-m0.HeapAlloc) / (1 << 20)
		runtime.KeepAlive(s)
		b.StartTimer()
	}
	b.ReportMetric(heap, "heap-MiB")
	b.ReportMetric(float64(len(dictGz))/(1<<20), "file-MiB")
}

// BenchmarkCut cuts a question (Cut, Salient) and a passage of the sample
// pack (Search, as a model build does for every chunk).
func BenchmarkCut(b *testing.B) {
	s := mustLoad(b)
	question := "出租车驾驶员证丢了怎么补办"
	passage := "新办食品经营许可需提交 1 食品经营许可申请书 2 营业执照等主体资格证明 本市登记的通过共享核验 免交 " +
		"3 主要设备设施 经营布局 操作流程等文件 4 食品安全自查 从业人员健康管理 进货查验记录 食品安全事故处置等规章制度目录清单 " +
		"委托办理的另附授权委托书和受托人身份证件 可在 示例办 或中心1 18号综合受理窗口提交 不收费"
	b.Run("question/cut", func(b *testing.B) {
		for b.Loop() {
			s.Cut(question)
		}
	})
	b.Run("question/salient", func(b *testing.B) {
		for b.Loop() {
			s.Salient(question)
		}
	})
	b.Run("passage/search", func(b *testing.B) {
		b.SetBytes(int64(len(passage)))
		for b.Loop() {
			s.Search(passage)
		}
	})
	b.Run("passage/gse-cutsearch", func(b *testing.B) {
		b.SetBytes(int64(len(passage)))
		g := gseOf(b)
		for b.Loop() {
			for _, f := range strings.Fields(passage) {
				g.CutSearch(f, false)
			}
		}
	})
}
