package studio

import "testing"

func TestPermissionsOf(t *testing.T) {
	tests := []struct {
		path, want string
	}{
		{"/publish/demo", permissionsPublish},
		{"/PUBLISH/demo", permissionsPublish},
		{"/publish/", permissionsNone},
		{"/live/demo", permissionsNone},
		{"/", permissionsNone},
		{"/api/publish/x", permissionsNone},
		{"/whip/demo", permissionsNone},
	}
	for _, tt := range tests {
		if got := permissionsOf(tt.path); got != tt.want {
			t.Errorf("permissionsOf(%q): got %q, want %q", tt.path, got, tt.want)
		}
	}
}
