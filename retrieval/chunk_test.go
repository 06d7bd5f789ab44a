package retrieval

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"govlive/content"
	"govlive/content/contenttest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sampleDocs returns the documents of the embedded sample pack.
func sampleDocs(t *testing.T) []content.Document {
	t.Helper()
	p := contenttest.SamplePack(t)
	if len(p.Documents) == 0 {
		t.Fatal("sample pack has no documents")
	}
	return p.Documents
}

// formatChunks writes one line per chunk: Seq | Label | Path | Start-End |
// the first 40 characters of Text, line endings shown as \r and \n.
func formatChunks(chunks []Chunk) []byte {
	var b bytes.Buffer
	for _, c := range chunks {
		head := []rune(c.Text)
		more := ""
		if len(head) > 40 {
			head, more = head[:40], "…"
		}
		text := strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(string(head))
		fmt.Fprintf(&b, "%d | %s | %s | %d-%d | %s%s\n", c.Seq, c.Label, strings.Join(c.Path, " > "), c.Start, c.End, text, more)
	}
	return b.Bytes()
}

func TestChunkGolden(t *testing.T) {
	for _, d := range sampleDocs(t) {
		t.Run(string(d.ID), func(t *testing.T) {
			got := formatChunks(ChunkDocument(d, 0))
			file := filepath.Join("testdata", "chunk", string(d.ID)+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test ./retrieval -run ChunkGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("chunks of %s differ from %s\ngot:\n%s\nwant:\n%s", d.ID, file, got, want)
			}
		})
	}
}

// articleRE finds the articles of a regulation independently of the
// chunker: a line starting with 第N条 and a space.
var articleRE = regexp.MustCompile(`(?m)^第[零〇一二三四五六七八九十百千两]+条[ \x{3000}]`)

func TestChunkSampleProperties(t *testing.T) {
	docs := sampleDocs(t)
	regulations := 0
	for _, maxChars := range []int{0, 1000, 200, 120, 60} {
		limit := maxChars
		if limit <= 0 {
			limit = DefaultChunkChars
		}
		for _, d := range docs {
			t.Run(fmt.Sprintf("%s/max=%d", d.ID, maxChars), func(t *testing.T) {
				chunks := ChunkDocument(d, maxChars)
				if len(chunks) == 0 {
					t.Fatal("got no chunks")
				}
				checkChunks(t, d, limit, chunks)

				body := []rune(d.Body)

				// Every article is the label of the chunk that starts at it.
				starts := map[string]int{}
				for _, c := range chunks {
					if _, ok := starts[c.Label]; !ok {
						starts[c.Label] = c.Start
					}
				}
				arts := articleRE.FindAllStringIndex(d.Body, -1)
				if maxChars == 0 && len(arts) > 0 {
					regulations++
				}
				for _, a := range arts {
					label := strings.TrimRightFunc(d.Body[a[0]:a[1]], unicode.IsSpace)
					at := len([]rune(d.Body[:a[0]]))
					if got, ok := starts[label]; !ok {
						t.Errorf("article %s is not the label of any chunk", label)
					} else if got != at {
						t.Errorf("chunk %s starts at %d, want %d (where the article starts)", label, got, at)
					}
				}

				// Nothing is lost: a character outside every chunk is white
				// space or on a heading line or the disclaimer.
				covered := make([]bool, len(body))
				for _, c := range chunks {
					for i := c.Start; i < c.End; i++ {
						covered[i] = true
					}
				}
				lineStart := 0
				for i, r := range body {
					if r == '\n' {
						lineStart = i + 1
						continue
					}
					if covered[i] || unicode.IsSpace(r) {
						continue
					}
					line := strings.TrimSpace(strings.SplitN(string(body[lineStart:]), "\n", 2)[0])
					if !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "> 示例数据") {
						t.Errorf("character %d %q of line %q is in no chunk", i, r, line)
						break
					}
				}
			})
		}
	}
	if regulations < 10 {
		t.Errorf("found articles in %d sample documents, want at least 10 (is articleRE right?)", regulations)
	}
}

// checkChunks checks what holds for the chunks of any document: exact
// offsets, order, no overlap, no white space at the ends, size, identity
// and citation.
func checkChunks(t *testing.T, d content.Document, limit int, chunks []Chunk) {
	t.Helper()
	body := []rune(d.Body)
	prevEnd := 0
	for i, c := range chunks {
		if c.Seq != i {
			t.Errorf("chunk %d: got Seq %d, want %d", i, c.Seq, i)
		}
		if c.DocID != d.ID || c.Title != d.Title {
			t.Errorf("chunk %d: got DocID %q Title %q, want %q %q", i, c.DocID, c.Title, d.ID, d.Title)
		}
		if c.Start < prevEnd || c.End <= c.Start || c.End > len(body) {
			t.Errorf("chunk %d: got range %d-%d after a chunk ending at %d in a body of %d", i, c.Start, c.End, prevEnd, len(body))
			continue
		}
		prevEnd = c.End
		if got := string(body[c.Start:c.End]); c.Text != got {
			t.Errorf("chunk %d: got Text %q, want body[%d:%d] = %q", i, c.Text, c.Start, c.End, got)
		}
		if strings.TrimSpace(c.Text) != c.Text {
			t.Errorf("chunk %d: Text %q starts or ends with white space", i, c.Text)
		}
		if n := c.End - c.Start; n > limit && !oneSentence(c.Text) {
			t.Errorf("chunk %d (%s) has %d characters, more than %d, and is not one sentence: %q", i, c.Label, n, limit, c.Text)
		}
		if len(c.Path) == 0 || c.Label == "" {
			t.Errorf("chunk %d: got Path %q Label %q, want both set", i, c.Path, c.Label)
		} else if last := c.Path[len(c.Path)-1]; !strings.HasPrefix(c.Label, last) && !strings.HasPrefix(c.Label, strings.Join(c.Path, " ")) {
			t.Errorf("chunk %d: label %q does not start with its path %q", i, c.Label, c.Path)
		}
		if got, want := c.Citation(), "《"+d.Title+"》"+c.Label; got != want {
			t.Errorf("chunk %d: got Citation %q, want %q", i, got, want)
		}
	}
}

// oneSentence reports whether s is a single sentence: one line with no
// sentence end before its last character (and closing quotes).
func oneSentence(s string) bool {
	if strings.ContainsAny(s, "\r\n") {
		return false
	}
	s = strings.TrimRight(s, "”’」』）)】")
	s = strings.TrimRight(s, "。；！？;!?")
	return !strings.ContainsAny(s, "。；！？;!?")
}

func TestChunkDocument(t *testing.T) {
	type want struct{ label, path, text string }
	for _, tc := range []struct {
		name string
		body string
		max  int
		want []want
	}{
		{
			name: "regulation with chapters",
			body: "# 测试办法\n\n> 示例数据：虚构。\n\n## 第一章 总则\n\n第一条 为了测试，制定本办法。\n\n第二条 本办法适用于测试。\n\n## 第二章 附则\n\n第三条 本办法自发布之日起施行。\n",
			want: []want{
				{"第一条", "第一章 总则 > 第一条", "第一条 为了测试，制定本办法。"},
				{"第二条", "第一章 总则 > 第二条", "第二条 本办法适用于测试。"},
				{"第三条", "第二章 附则 > 第三条", "第三条 本办法自发布之日起施行。"},
			},
		},
		{
			name: "regulation without chapters keeps items and closing paragraph",
			body: "# 规范\n\n第一条 预审分为：\n（一）线上预审；\n（二）现场预审。\n\n预审通过后正式提交。\n\n第二条 本规范自发布之日起施行。",
			want: []want{
				{"第一条", "第一条", "第一条 预审分为：\n（一）线上预审；\n（二）现场预审。\n\n预审通过后正式提交。"},
				{"第二条", "第二条", "第二条 本规范自发布之日起施行。"},
			},
		},
		{
			name: "guide with sections and subsections",
			body: "# 测试指南\n\n> 示例数据：虚构。\n\n## 一、事项名称\n\n测试许可\n\n## 二、申请材料\n\n申请人提交下列材料：\n\n### （一）新办\n\n1. 申请书；\n2. 身份证件。\n\n### （二）变更\n\n变更申请书。\n\n## 三、新办流程\n\n### 1. 申请\n\n在线申报。\n\n## 四、收费标准\n\n不收费。\n",
			want: []want{
				{"一、事项名称", "一、事项名称", "## 一、事项名称\n\n测试许可"},
				{"二、申请材料", "二、申请材料", "## 二、申请材料\n\n申请人提交下列材料："},
				{"二、申请材料 （一）新办", "二、申请材料 > （一）新办", "### （一）新办\n\n1. 申请书；\n2. 身份证件。"},
				{"二、申请材料 （二）变更", "二、申请材料 > （二）变更", "### （二）变更\n\n变更申请书。"},
				{"三、新办流程 1. 申请", "三、新办流程 > 1. 申请", "### 1. 申请\n\n在线申报。"},
				{"四、收费标准", "四、收费标准", "## 四、收费标准\n\n不收费。"},
			},
		},
		{
			name: "over-long article split at its items",
			body: "第八条 经核实投诉属实的，采取以下措施：\n\n（一）批评教育。情节轻微的，当面批评教育；\n\n（二）约谈检查。被投诉两次的，约谈负责人；\n\n（三）责令整改。限期十日整改。",
			max:  50,
			want: []want{
				{"第八条", "第八条", "第八条 经核实投诉属实的，采取以下措施：\n\n（一）批评教育。情节轻微的，当面批评教育；"},
				{"第八条（二）", "第八条", "（二）约谈检查。被投诉两次的，约谈负责人；\n\n（三）责令整改。限期十日整改。"},
			},
		},
		{
			name: "a lead-in moves to the part it introduces",
			body: "## 三、新办\n\n（一）申请条件：场所齐全。\n\n（二）申请材料：\n1. 申请书；\n2. 设备清单。",
			max:  36,
			want: []want{
				{"三、新办", "三、新办", "## 三、新办\n\n（一）申请条件：场所齐全。"},
				{"三、新办（二）", "三、新办", "（二）申请材料：\n1. 申请书；\n2. 设备清单。"},
			},
		},
		{
			name: "numbered entries name later parts",
			body: "## 六、申请材料\n\n1. 食品经营许可申请书；\n2. 营业执照；\n3. 设备布局和操作流程文件；\n4. 规章制度目录清单。",
			max:  40,
			want: []want{
				{"六、申请材料", "六、申请材料", "## 六、申请材料\n\n1. 食品经营许可申请书；\n2. 营业执照；"},
				{"六、申请材料第3项", "六、申请材料", "3. 设备布局和操作流程文件；\n4. 规章制度目录清单。"},
			},
		},
		{
			name: "long paragraph split at sentence ends",
			body: "第一条 甲事项当场办结。乙事项三日内办结；丙事项五日内办结！丁事项另行通知。",
			max:  21,
			want: []want{
				{"第一条", "第一条", "第一条 甲事项当场办结。乙事项三日内办结；"},
				{"第一条（第2部分）", "第一条", "丙事项五日内办结！丁事项另行通知。"},
			},
		},
		{
			name: "a sentence longer than the limit is a chunk of its own",
			body: "第一条 短句。\n\n这一句话本身就比上限长得多而且中间没有任何可以断开的句末标点",
			max:  10,
			want: []want{
				{"第一条", "第一条", "第一条 短句。"},
				{"第一条（第2部分）", "第一条", "这一句话本身就比上限长得多而且中间没有任何可以断开的句末标点"},
			},
		},
		{
			name: "table that fits stays whole",
			body: "第四条 清单如下：\n\n| 序号 | 事项 |\n| --- | --- |\n| 1 | 甲 |\n| 2 | 乙 |\n\n第五条 其他。",
			max:  60,
			want: []want{
				{"第四条", "第四条", "第四条 清单如下：\n\n| 序号 | 事项 |\n| --- | --- |\n| 1 | 甲 |\n| 2 | 乙 |"},
				{"第五条", "第五条", "第五条 其他。"},
			},
		},
		{
			name: "too-long table split at rows, header with the first",
			body: "第四条 清单如下：\n\n| 序号 | 事项 |\n| --- | --- |\n| 1 | 甲 |\n| 2 | 乙 |\n| 3 | 丙 |",
			max:  50,
			want: []want{
				{"第四条", "第四条", "第四条 清单如下：\n\n| 序号 | 事项 |\n| --- | --- |\n| 1 | 甲 |"},
				{"第四条（第2部分）", "第四条", "| 2 | 乙 |\n| 3 | 丙 |"},
			},
		},
		{
			name: "no headings",
			body: "# 通知\n\n> 示例数据：虚构。\n\n第一段内容。\n\n第二段内容。\n",
			want: []want{
				{"正文", "正文", "第一段内容。\n\n第二段内容。"},
			},
		},
		{
			name: "no headings, split",
			body: "第一段内容比较长一些。\n\n第二段内容也比较长。\n",
			max:  15,
			want: []want{
				{"正文", "正文", "第一段内容比较长一些。"},
				{"正文（第2部分）", "正文", "第二段内容也比较长。"},
			},
		},
		{
			name: "intro paragraph before the first section",
			body: "# 实施方案\n\n> 示例数据：虚构。\n\n为深化改革，制定本方案。\n\n## 一、总体要求\n\n一网通办。",
			want: []want{
				{"前言", "前言", "为深化改革，制定本方案。"},
				{"一、总体要求", "一、总体要求", "## 一、总体要求\n\n一网通办。"},
			},
		},
		{
			name: "CRLF line endings",
			body: "# 办法\r\n\r\n> 示例数据：虚构。\r\n\r\n## 第一章 总则\r\n\r\n第一条 预审分为：\r\n（一）线上；\r\n（二）现场。\r\n\r\n第二条 施行。\r\n",
			want: []want{
				{"第一条", "第一章 总则 > 第一条", "第一条 预审分为：\r\n（一）线上；\r\n（二）现场。"},
				{"第二条", "第一章 总则 > 第二条", "第二条 施行。"},
			},
		},
		{
			name: "chapters as plain lines, bold articles",
			body: "第一章 总则\n\n**第一条** 为了测试。\n\n第一节 受理\n\n第二条\u3000受理规则。\n\n第二章 附则\n\n第三条 施行。",
			want: []want{
				{"第一条", "第一章 总则 > 第一条", "**第一条** 为了测试。"},
				{"第二条", "第一章 总则 > 第一节 受理 > 第二条", "第二条\u3000受理规则。"},
				{"第三条", "第二章 附则 > 第三条", "第三条 施行。"},
			},
		},
		{
			name: "a later level-1 heading is a section",
			body: "# 标题\n\n# 第一章 总则\n\n第一条 为了测试。\n\n#### 说明\n\n补充说明。",
			want: []want{
				{"第一条", "第一章 总则 > 第一条", "第一条 为了测试。\n\n#### 说明\n\n补充说明。"},
			},
		},
		{
			name: "a heading that cannot share a part is left out",
			body: "## 一、总体要求\n\n这一句话本身比上限长而且没有句末标点可以断开",
			max:  20,
			want: []want{
				{"一、总体要求", "一、总体要求", "这一句话本身比上限长而且没有句末标点可以断开"},
			},
		},
		{
			name: "article references are not articles",
			body: "第五条 当场不能解决的，\n第六条规定的时限内办理。\n\n按照第六条 处理。",
			want: []want{
				{"第五条", "第五条", "第五条 当场不能解决的，\n第六条规定的时限内办理。\n\n按照第六条 处理。"},
			},
		},
		{
			name: "heading with nothing under it",
			body: "## 一、目标\n\n## 二、任务\n\n   \n",
		},
		{name: "only title and disclaimer", body: "# 标题\n\n> 示例数据：本文件是虚构样例，\n> 不是官方文件。\n"},
		{name: "white space only", body: " \n\t\r\n\u3000\n"},
		{name: "empty", body: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := content.Document{ID: "doc-test", Title: "测试文件", Body: tc.body}
			chunks := ChunkDocument(d, tc.max)
			limit := tc.max
			if limit <= 0 {
				limit = DefaultChunkChars
			}
			checkChunks(t, d, limit, chunks)
			var got []want
			for _, c := range chunks {
				got = append(got, want{c.Label, strings.Join(c.Path, " > "), c.Text})
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d chunks %q, want %d %q", len(got), got, len(tc.want), tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("chunk %d: got %q, want %q", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestChunkDocumentDefaultLimit(t *testing.T) {
	item := "（一）" + strings.Repeat("甲", 100) + "。"
	body := "第一条 措施如下：\n\n" + strings.Repeat(item+"\n\n", 5)
	d := content.Document{ID: "doc-test", Title: "测试", Body: body}
	for _, maxChars := range []int{0, -1} {
		chunks := ChunkDocument(d, maxChars)
		if len(chunks) != 2 {
			t.Fatalf("ChunkDocument(max=%d): got %d chunks, want 2 (at most %d characters each)", maxChars, len(chunks), DefaultChunkChars)
		}
		for _, c := range chunks {
			if n := c.End - c.Start; n > DefaultChunkChars {
				t.Errorf("ChunkDocument(max=%d): chunk %s has %d characters, want at most %d", maxChars, c.Label, n, DefaultChunkChars)
			}
		}
	}
}

func TestChunkCitation(t *testing.T) {
	for _, tc := range []struct{ title, label, want string }{
		{"示例市政务服务投诉处理与监督管理办法", "第八条", "《示例市政务服务投诉处理与监督管理办法》第八条"},
		{"食品经营许可（新办）办事指南", "六、申请材料第5项", "《食品经营许可（新办）办事指南》六、申请材料第5项"},
		{"", "第八条", "第八条"},
	} {
		if got := (Chunk{Title: tc.title, Label: tc.label}).Citation(); got != tc.want {
			t.Errorf("Citation of %q %q: got %q, want %q", tc.title, tc.label, got, tc.want)
		}
	}
}
