package retrieval

import "testing"

func TestNormalize(t *testing.T) {
	n, err := NewNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"traditional", "食品經營許可證新辦要什麼資料", "食品经营许可证新办要什么资料"},
		{"traditional taxi", "計程車駕駛員證要帶咩文件", "计程车驾驶员证要带咩文件"},
		{"full-width digits and letters", "ＳＣ证编号１４位", "sc证编号14位"},
		{"mixed English case", "APP里能办吗 WeChat", "app里能办吗 wechat"},
		{"punctuation to one space", "要多久？？！能快点吗……", "要多久 能快点吗"},
		{"emoji", "主播好👍🏻👍🏻 辛苦了😊", "主播好 辛苦了"},
		{"white space trimmed", "  \t食品证\u3000材料\n", "食品证 材料"},
		{"numeral before a unit", "十五个工作日内", "15个工作日内"},
		{"ordinal", "第八条和第二十三条", "第8条和第23条"},
		{"hundreds with zero", "三百零五天", "305天"},
		{"two", "两次", "2次"},
		{"digit string", "一二三号窗口", "123号窗口"},
		{"not a quantity", "统一受理一般不收费", "统一受理一般不收费"},
		{"ten alone", "十天", "10天"},
		{"already digits", "3个工作日", "3个工作日"},
		{"empty", "", ""},
		{"only punctuation", "？！。", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := n.Normalize(tc.in); got != tc.want {
				t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormalizeIdempotent(t *testing.T) {
	n, err := NewNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"食品經營許可證新辦要什麼資料？", "十五个工作日", "第八條", "ＳＣ证 👍 ok"} {
		once := n.Normalize(s)
		if twice := n.Normalize(once); twice != once {
			t.Errorf("Normalize not idempotent on %q: %q then %q", s, once, twice)
		}
	}
}

func TestNormalizeNumerals(t *testing.T) {
	n, err := NewNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ in, want string }{
		{"一百零八条", "108条"},
		{"两千元", "2000元"},
		{"十万元", "100000元"},
		{"一万元", "10000元"},
		{"两万人", "20000人"},
		{"两万三千人", "23000人"},
		{"三百五十元", "350元"},
		{"三百五元", "350元"},
		{"两千五元", "2500元"},
		{"3千元", "3千元"},
		{"5百个", "5百个"},
		{"两三天", "两三天"},
		{"三五个", "三五个"},
		{"十分满意", "十分满意"},
		{"十五分钟", "15分钟"},
		{"百分之百", "百分之百"},
		{"二〇二六年", "2026年"},
		{"一九九零年", "1990年"},
		{"五天", "5天"},
	} {
		if got := n.Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Simplified changes traditional characters only: no width folding, case,
// numerals or punctuation.
func TestSimplified(t *testing.T) {
	n, err := NewNormalizer()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"traditional", "食品經營許可證新辦要什麼資料", "食品经营许可证新办要什么资料"},
		{"punctuation kept", "要多久？？！", "要多久？？！"},
		{"numerals kept", "十五個工作日", "十五个工作日"},
		{"width and case kept", "ＳＣ證 APP", "ＳＣ证 APP"},
		{"emoji kept", "辛苦了😊", "辛苦了😊"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := n.Simplified(tc.in); got != tc.want {
				t.Errorf("Simplified(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
