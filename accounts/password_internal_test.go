package accounts

import (
	"errors"
	"testing"
)

func TestParseHash(t *testing.T) {
	good, err := hashPassword("pw", Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, hash string
		ok         bool
	}{
		{"good", good, true},
		{"bcrypt", "$2a$10$abcdefghijklmnopqrstuuFq9T2hRd6v6Z1B9pnA7Sa3Wq4yCk4i", false},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", false},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", false},
		{"no passes", "$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", false},
		{"huge memory", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", false},
		{"unknown key", "$argon2id$v=19$m=64,t=1,x=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", false},
		{"bad base64", "$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := parseHash(tc.hash)
			if (err == nil) != tc.ok || (err != nil && !errors.Is(err, errHashFormat)) {
				t.Errorf("got %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

// BenchmarkHash is one argon2id hash with DefaultParams.
func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := hashPassword("editor password", DefaultParams); err != nil {
			b.Fatal(err)
		}
	}
}
