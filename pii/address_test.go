package pii

import "testing"

// TestFindAddress: a street and a house number, or the building, unit and
// room of a compound, is a home address; numbers of windows, floors,
// documents and ranges, and places named without a number, are not.
func TestFindAddress(t *testing.T) {
	d := newTestDetector(t)
	addr := func(s string) []want { return []want{{Address, s, false}} }
	tests := []struct {
		name string
		text string
		want []want
	}{
		{"road and number", "我家住建设路12号", addr("12号")},
		{"street, building, unit, room", "寄到人民街88号3栋2单元501室", addr("88号3栋2单元501室")},
		{"compound, building, unit, bare room", "我住阳光小区5号楼1单元302，能寄到家吗", addr("5号楼1单元302")},
		{"building, unit, room, no name", "5号楼1单元302室", addr("5号楼1单元302室")},
		{"building and bare room", "3栋501", addr("3栋501")},
		{"unit and room", "2单元501室", addr("2单元501室")},
		{"spaced parts", "幸福路 18号 2栋 3单元 402", addr("18号 2栋 3单元 402")},
		{"Chinese numerals", "家在和平东路十二号", addr("十二号")},
		{"Chinese numerals, building", "锦绣花园三栋二单元", addr("三栋二单元")},
		{"traditional", "住在中山路12號3棟", addr("12號3棟")},
		{"full-width digits", "建设路１２号", addr("１２号")},
		{"avenue", "世纪大道100号", addr("100号")},
		{"lane", "长乐路100弄5号", addr("100弄5号")},
		{"hutong", "南锣鼓巷胡同8号", addr("8号")},
		{"courtyard", "东四胡同12号院", addr("12号院")},
		{"village group", "王庄村3组12号", addr("3组12号")},
		{"compound and house number", "幸福家园12号", addr("12号")},
		{"Latin name", "XX路12号", addr("12号")},
		{"街道", "南湖街道5号", addr("5号")},
		{"with a mobile number", "建设路12号，电话13812345678", []want{{Address, "12号", false}, {Mobile, "13812345678", false}}},

		{"place without a number", "政务中心在哪条路", nil},
		{"which number", "中心在XX路几号", nil},
		{"window", "请到25号窗口领取", nil},
		{"floor and window", "一楼23号帮办窗口", nil},
		{"range of windows", "19—22号即办件专窗", nil},
		{"document number", "国办发〔2019〕51号", nil},
		{"ordinal", "总局令第78号", nil},
		{"date", "12号能办吗", nil},
		{"bus route", "坐12路3号能到吗", nil},
		{"metro line", "人民路站换乘2号线", nil},
		{"知道", "不知道3号窗口在哪", nil},
		{"通道", "绿色通道5号", nil},
		{"floor after a street", "建设路3楼", nil},
		{"floor and room", "3楼302室", nil},
		{"building alone", "5号楼在哪", nil},
		{"seats", "大巴有20座位", nil},
		{"一号响应", "“一号响应”热线", nil},
		{"price after a unit", "2单元300元", nil},
		{"building and floor", "出件窗口在3号楼2层吗", nil},
		{"metro exit", "XX路2号口出来就到", nil},
		{"gate", "人民路3号门进", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMatches(t, tt.text, d.Find(tt.text), tt.want)
		})
	}
}

// TestOfficialAddress: the center's published address is not personal
// data, however a message begins its name or whatever it adds after it;
// another number, another street or a building of the same number is.
func TestOfficialAddress(t *testing.T) {
	d := newTestDetector(t, "示例市XX路1号", "0000-1234567")
	addr := func(s string) []want { return []want{{Address, s, false}} }
	tests := []struct {
		name string
		text string
		want []want
	}{
		{"as published", "中心地址：示例市XX路1号", nil},
		{"without the city", "政务中心是在XX路1号吗", nil},
		{"lower case", "xx路1号怎么走", nil},
		{"Chinese numeral", "XX路一号", nil},
		{"a floor of it", "XX路1号3楼", nil},
		{"with the hotline", "XX路1号，电话0000-1234567", nil},
		{"another number", "我家在XX路2号", addr("2号")},
		{"another street", "我家在YY路1号", addr("1号")},
		{"another road of the name", "XX东路1号", addr("1号")},
		{"a building of the number", "XX路1号楼3单元", addr("1号楼3单元")},
		{"another kind of place", "XX街1号", addr("1号")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkMatches(t, tt.text, d.Find(tt.text), tt.want)
		})
	}
}

// TestMaskAddress: an address keeps its words and hides its numbers.
func TestMaskAddress(t *testing.T) {
	d := newTestDetector(t)
	for _, tt := range []struct{ text, want string }{
		{"寄到人民街88号3栋2单元501室", "寄到人民街**号*栋*单元***室"},
		{"阳光小区5号楼1单元302", "阳光小区*号楼*单元***"},
		{"和平东路十二号", "和平东路**号"},
		{"建设路１２号", "建设路**号"},
	} {
		if got, _ := d.Mask(tt.text); got != tt.want {
			t.Errorf("Mask(%q): got %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestCNValue(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"一", "1"}, {"十", "10"}, {"十二", "12"}, {"二十", "20"}, {"二十三", "23"},
		{"一百零八", "108"}, {"两", "2"}, {"三〇二", "302"}, {"一二三", "123"}, {"九", "9"},
	} {
		got, ok := cnValue([]rune(tt.in))
		if !ok || got != tt.want {
			t.Errorf("cnValue(%q): got %q %v, want %q", tt.in, got, ok, tt.want)
		}
	}
}
