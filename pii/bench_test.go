package pii

import "testing"

// benchMessages are chat messages as a livestream sees them: mostly
// questions without personal data, some with a number, an address or an
// e-mail address.
var benchMessages = []string{
	"开一家面馆，新办食品经营许可证要带哪些资料？",
	"窗口工作人员态度很差，我要投诉",
	"我的身份证号是11010519491231002X，营业执照能查到吗",
	"有问题请打我电话138-1234-5678",
	"卡号6222 0212 3456 7890 123，钱怎么还没退",
	"证照能寄到建设路88号3栋2单元501室吗",
	"政务中心在哪条路？几号窗口办食品证",
	"请到一楼25号窗口领取，咨询热线0000-1234567",
	"邮箱zhang.san@example.com能收通知吗",
	"同城通办试点都包含哪些业务，网上办理请登录 zwfw.example.gov.cn",
	"我家在阳光小区5号楼1单元302，能上门吗",
	"国办发〔2019〕51号文件说的是什么",
}

// BenchmarkFind finds the personal data in the mixed messages, one per
// iteration.
func BenchmarkFind(b *testing.B) {
	d := New([]string{"0000-1234567", "12345"})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.Find(benchMessages[i%len(benchMessages)])
	}
}
