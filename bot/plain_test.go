package bot

import "testing"

func TestPlainText(t *testing.T) {
	tests := []struct{ name, md, want string }{
		{"heading", "## 三、办理时限\n\n自受理之日起 10 个工作日内办结。", "三、办理时限\n\n自受理之日起 10 个工作日内办结。"},
		{"bullets and emphasis", "- **营业执照**（共享核验免交）\n* 法定代表人身份证明\n+ `食品安全管理制度`", "· 营业执照（共享核验免交）\n· 法定代表人身份证明\n· 食品安全管理制度"},
		{"numbered list kept", "1. 提交申请\n2. 现场核查", "1. 提交申请\n2. 现场核查"},
		{"link and image", "详见[办事指南](https://example.invalid/a)。![示意图](a.png)", "详见办事指南。示意图"},
		{"table", "| 事项 | 时限 |\n| --- | :---: |\n| 新办 | 10 日 |", "事项　时限\n新办　10 日"},
		{"quote and rule", "> 注意：\n> 原件核验\n\n---\n\n第二段", "注意：\n原件核验\n\n第二段"},
		{"blank lines collapse", "一\n\n\n\n二\r\n", "一\n\n二"},
		{"html", "第<b>一</b>条<br>", "第一条"},
		{"asterisks in text stay", "5*2=10", "5*2=10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plainText(tt.md); got != tt.want {
				t.Errorf("plainText(%q):\ngot  %q\nwant %q", tt.md, got, tt.want)
			}
		})
	}
}
