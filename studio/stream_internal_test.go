package studio

import "testing"

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header, want string
		ok           bool
	}{
		{"Bearer glt_abc", "glt_abc", true},
		{"bearer glt_abc", "glt_abc", true},
		{"  BEARER   glt_abc  ", "glt_abc", true},
		{"Basic dXNlcjpwYXNz", "", false},
		{"Bearer", "", false},
		{"Bearer   ", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, ok := bearerToken(tc.header)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("bearerToken(%q) = %q, %v; want %q, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}
