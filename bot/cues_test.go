package bot

import (
	"testing"

	"govlive/retrieval"
)

// testNormalize returns the Normalizer.Normalize the bot uses for cues and
// messages.
func testNormalize(t *testing.T) func(string) string {
	t.Helper()
	n, err := retrieval.NewNormalizer()
	if err != nil {
		t.Fatalf("normalizer: %v", err)
	}
	return n.Normalize
}

func TestCompileCues(t *testing.T) {
	norm := testNormalize(t)
	tests := []struct {
		name string
		list []string
		want [][]string // parts of each compiled cue, in order
	}{
		{"plain", []string{"态度很差"}, [][]string{{"态度很差"}}},
		{"gap", []string{"我的…被退回"}, [][]string{{"我的", "被退回"}}},
		{"ascii gap", []string{"明天...到期"}, [][]string{{"明天", "到期"}}},
		{"traditional and full-width", []string{"態度很差", "ＳＢ"}, [][]string{{"态度很差"}, {"sb"}}},
		{"punctuation inside a part", []string{"态度，很差"}, [][]string{{"态度很差"}}},
		{"empty gap part dropped", []string{"…被退回", "我的……被退回"}, [][]string{{"被退回"}, {"我的", "被退回"}}},
		{"empty cues ignored", []string{"", " ", "…", "...", "，", "天气"}, [][]string{{"天气"}}},
		{"nil list", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := compileCues(norm, tc.list)
			if len(got) != len(tc.want) {
				t.Fatalf("compileCues(%q): got %d cues %v, want %d", tc.list, len(got), got, len(tc.want))
			}
			for i, c := range got {
				if !equalStrings(c.parts, tc.want[i]) {
					t.Errorf("cue %d (%q): got parts %q, want %q", i, c.text, c.parts, tc.want[i])
				}
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCueMatch(t *testing.T) {
	norm := testNormalize(t)
	tests := []struct {
		name string
		cues []string
		msg  string
		want string // the cue as written that matches; "" for none
	}{
		{"plain", []string{"态度很差"}, "三号窗口的人态度很差", "态度很差"},
		{"plain absent", []string{"态度很差"}, "窗口的人态度很好", ""},
		{"gap", []string{"我的…被退回"}, "我的变更申请昨天被退回了", "我的…被退回"},
		{"gap adjacent", []string{"我的…被退回"}, "我的被退回了", "我的…被退回"},
		{"gap wrong order", []string{"我的…被退回"}, "被退回的是不是我的申请", ""},
		{"gap parts do not overlap", []string{"投诉…投诉"}, "我要投诉", ""},
		{"gap part repeated", []string{"投诉…投诉"}, "投诉了又投诉", "投诉…投诉"},
		{"ascii gap", []string{"明天...到期"}, "执照明天就到期了", "明天...到期"},
		{"traditional message", []string{"态度很差"}, "窗口人員態度很差", "态度很差"},
		{"traditional cue", []string{"態度很差"}, "窗口人员态度很差", "態度很差"},
		{"full-width letters", []string{"sb"}, "ＳＢ主播", "sb"},
		{"upper case", []string{"vx"}, "加VX", "vx"},
		{"punctuation between words", []string{"态度很差"}, "态度，很差！", "态度很差"},
		{"spaces between words", []string{"态度很差"}, "态度 很 差", "态度很差"},
		{"emoji between words", []string{"态度很差"}, "态度😡很差", "态度很差"},
		{"first cue in list order wins", []string{"很差", "态度很差"}, "态度很差", "很差"},
		{"empty cue never matches", []string{"", "…"}, "任何消息", ""},
		{"empty message", []string{"态度很差"}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := compileCues(norm, tc.cues)
			c, ok := l.match(squash(norm(tc.msg)))
			got := ""
			if ok {
				got = c.text
			}
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("match(%q) with cues %q: got %q (ok %v), want %q", tc.msg, tc.cues, got, ok, tc.want)
			}
		})
	}
}

func TestRepetitive(t *testing.T) {
	norm := testNormalize(t)
	tests := []struct {
		name string
		msg  string
		want bool
	}{
		{"one character flood", "6666666", true},
		{"one character flood with punctuation", "6！6！6！6！6！6！", true},
		{"one character mostly", "666666666好", true},
		{"phrase three times with spaces", "来了 来了 来了", true},
		{"phrase three times with punctuation", "冲鸭！冲鸭！冲鸭！", true},
		{"phrase three times among other words", "顶上去 主播 顶上去 顶上去", true},
		{"chunk repeated without spaces", "加油加油加油加油", true},
		{"chunk repeated making most of the message", "刷屏刷屏刷屏啊", true},
		{"longer chunk repeated", "主播看我主播看我主播看我", true},

		{"laugh in a real question", "哈哈，请问食品经营许可证要多少天", false},
		{"short laugh before a question", "哈哈哈 新办营业执照去几楼", false},
		{"hotline 12345", "打12345热线问了，说要到中心现场办", false},
		{"hotline 12345 twice", "12345热线和12345网站有什么区别", false},
		{"official number", "咨询热线0000-1234567几点有人接", false},
		{"thanks", "谢谢谢谢", false},
		{"thanks to the host", "谢谢谢谢主播", false},
		{"chunk repeated in a long question", "办证办证办证的流程是什么样的，要多久才能拿到", false},
		{"phrase twice", "好的 好的", false},
		{"single characters three times", "好 好 好 我知道了", false},
		{"five characters", "66666", false},
		{"empty", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := repetitive(norm(tc.msg)); got != tc.want {
				t.Errorf("repetitive(%q): got %v, want %v", tc.msg, got, tc.want)
			}
		})
	}
}
