package chatdb

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"govlive/bot"
)

// TestHitsText checks the hand-written encoding against encoding/json: it
// must read back to the same hits, and to the same value as json.Marshal
// gives, for plain and awkward ids and scores alike.
func TestHitsText(t *testing.T) {
	for _, tc := range []struct {
		name string
		hits []bot.HitRef
	}{
		{"one faq", []bot.HitRef{{Kind: "faq", ID: "faq-food-biz-new-materials", Score: 0.8731}}},
		{"doc with chunk", []bot.HitRef{{Kind: "doc", ID: "doc-hotline", Chunk: 3, Score: 1}, {Kind: "faq", ID: "faq-a", Score: 0}}},
		{"tiny and huge scores", []bot.HitRef{{Kind: "faq", ID: "a", Score: 1e-9}, {Kind: "faq", ID: "b", Score: 12345678.25}}},
		{"negative chunk", []bot.HitRef{{Kind: "doc", ID: "d", Chunk: -1, Score: -0.5}}},
		{"id needing escapes", []bot.HitRef{{Kind: "faq", ID: `a"b\c`, Score: 0.5}}},
		{"non-ASCII id", []bot.HitRef{{Kind: "faq", ID: "条目-一", Score: 0.5}}},
		{"html characters", []bot.HitRef{{Kind: "faq", ID: "<a&b>", Score: 0.5}}},
		{"control character", []bot.HitRef{{Kind: "faq", ID: "a\nb", Score: 0.5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hitsText(tc.hits)
			if got != jsonText(tc.hits) {
				var a, b any
				if json.Unmarshal([]byte(got), &a) != nil || json.Unmarshal([]byte(jsonText(tc.hits)), &b) != nil || !reflect.DeepEqual(a, b) {
					t.Errorf("hitsText = %s, encoding/json gives %s", got, jsonText(tc.hits))
				}
			}
			var back []bot.HitRef
			if err := json.Unmarshal([]byte(got), &back); err != nil {
				t.Fatalf("hitsText = %s: not JSON: %v", got, err)
			}
			if !reflect.DeepEqual(back, tc.hits) {
				t.Errorf("read back %+v, want %+v", back, tc.hits)
			}
		})
	}
	if got := hitsText(nil); got != "" {
		t.Errorf("no hits: %q, want empty", got)
	}
	if got := hitsText([]bot.HitRef{{Kind: "faq", ID: "a", Score: math.NaN()}}); got != "" {
		t.Errorf("NaN score: %q, want empty (not JSON)", got)
	}
}
