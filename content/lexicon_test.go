package content_test

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"govlive/content"
	"govlive/content/contenttest"
)

// TestParseIntentsModeration reads the moderation keys of intents.yaml:
// the emoji table, the words that are no abuse and the official
// addresses.
func TestParseIntentsModeration(t *testing.T) {
	c, err := content.ParseIntents("abuse:\n  - 你马\nnot_abuse:\n  - 马上\nemoji:\n  🐴: 马\n  \"🐶\uFE0F\": 狗\n  🐢: 王八\nofficial_addresses:\n  - 示例市XX路1号\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"🐴": "马", "🐶\uFE0F": "狗", "🐢": "王八"}; !maps.Equal(c.Emoji, want) {
		t.Errorf("emoji: got %v, want %v", c.Emoji, want)
	}
	if !slices.Equal(c.NotAbuse, []string{"马上"}) || !slices.Equal(c.OfficialAddresses, []string{"示例市XX路1号"}) {
		t.Errorf("got not_abuse %v, official_addresses %v", c.NotAbuse, c.OfficialAddresses)
	}
	if content.EmojiKey("🐶\uFE0F") != "🐶" {
		t.Errorf("EmojiKey: got %q, want 🐶", content.EmojiKey("🐶\uFE0F"))
	}
}

// TestParseIntentsModerationErrors: a bad entry is reported in Chinese
// with the file, the line and the key.
func TestParseIntentsModerationErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string // substrings of the error
	}{
		{"emoji as a list", "emoji:\n  - 🐶\n", []string{"lexicon/intents.yaml:1:", "键 emoji", "对照表"}},
		{"a letter for an emoji", "emoji:\n  🐶: 狗\n  a: 狗\n", []string{"lexicon/intents.yaml:3:", "键 emoji", `"a" 不是一个表情符号`}},
		{"two emoji in a key", "emoji:\n  🐶🐶: 狗\n", []string{"lexicon/intents.yaml:2:", "不是一个表情符号"}},
		{"punctuation for an emoji", "emoji:\n  \"！\": 狗\n", []string{"lexicon/intents.yaml:2:", "不是一个表情符号"}},
		{"emoji twice", "emoji:\n  🐶: 狗\n  🐷: 猪\n  \"🐶\uFE0F\": 狗\n", []string{"lexicon/intents.yaml:4:", "已在第 2 行出现"}},
		{"empty word", "emoji:\n  🐶: \"\"\n", []string{"lexicon/intents.yaml:2:", "非空文字"}},
		{"word too long", "emoji:\n  🐶: 狗狗狗狗狗\n", []string{"lexicon/intents.yaml:2:", "1 到 4 个汉字或字母"}},
		{"emoji for an emoji", "emoji:\n  🐶: 🐕\n", []string{"lexicon/intents.yaml:2:", "汉字或字母"}},
		{"word as a list", "emoji:\n  🐶: [狗]\n", []string{"lexicon/intents.yaml:2:", "非空文字"}},
		{"not_abuse as a word", "not_abuse: 马上\n", []string{"lexicon/intents.yaml:1:", "键 not_abuse", "列表"}},
		{"official address without a number", "official_addresses:\n  - 示例市XX路1号\n  - 示例市XX路\n", []string{"lexicon/intents.yaml:3:", "键 official_addresses", "读不出地址"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := content.ParseIntents(tc.text)
			if err == nil {
				t.Fatal("accepted")
			}
			var pe *content.PackError
			if !errors.As(err, &pe) {
				t.Errorf("error %v is no PackError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestSampleLexiconModeration: the sample pack's lexicon has the emoji
// table, the words that are no abuse and the center's address.
func TestSampleLexiconModeration(t *testing.T) {
	p := contenttest.SamplePack(t)
	c, err := content.ParseIntents(p.Lexicon[content.IntentsFile])
	if err != nil {
		t.Fatal(err)
	}
	if c.Emoji["🐴"] != "马" || !slices.Contains(c.NotAbuse, "马上") || !slices.Contains(c.OfficialAddresses, "示例市XX路1号") {
		t.Errorf("sample lexicon: emoji %v, not_abuse %d words, official addresses %v", c.Emoji, len(c.NotAbuse), c.OfficialAddresses)
	}
}
