package accounts

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id parameters of a hash (RFC 9106).
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams cost about 70 ms and 46 MiB per hash on one core of the
// 2-core machine govlive is sized for (BenchmarkHash): one thread, so a
// login never takes both cores from the relay; above OWASP's minimum for
// argon2id (19 MiB, 2 passes).
var DefaultParams = Params{Memory: 46 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

var errParams = errors.New("argon2id parameters out of range")

func (p Params) check() error {
	if p.Memory < 8*uint32(max(p.Threads, 1)) || p.Memory > 1<<22 || p.Time < 1 || p.Time > 64 ||
		p.Threads < 1 || p.SaltLen < 8 || p.SaltLen > 64 || p.KeyLen < 16 || p.KeyLen > 64 {
		return fmt.Errorf("%w: %+v", errParams, p)
	}
	return nil
}

var b64 = base64.RawStdEncoding // the PHC string format's base64: no padding

// hashPassword hashes password with p and a new random salt, in the PHC
// string format: $argon2id$v=19$m=47104,t=2,p=1$SALT$HASH.
func hashPassword(password string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errHashFormat = errors.New("not an argon2id hash in the PHC string format")

// parseHash reads a PHC string of argon2id.
func parseHash(s string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errHashFormat
	}
	var m, t, th uint64
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return p, nil, nil, errHashFormat
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			th = n
		default:
			return p, nil, nil, errHashFormat
		}
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, errHashFormat
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return p, nil, nil, errHashFormat
	}
	if th > 255 {
		return p, nil, nil, errHashFormat
	}
	p = Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(th), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if err := p.check(); err != nil {
		return p, nil, nil, fmt.Errorf("%w: %w", errHashFormat, err)
	}
	return p, salt, key, nil
}

// verifyPassword reports whether password matches the hash, comparing in
// constant time, and whether the hash should be redone with want (its
// parameters differ).
func verifyPassword(password, hash string, want Params) (ok, rehash bool, err error) {
	p, salt, key, err := parseHash(hash)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, p != want, nil
}

// The rule for passwords: MinPassword to MaxPassword characters, no
// control characters (a password is typed or read from one line), not
// the user's name.
const (
	MinPassword = 10
	MaxPassword = 128
)

func checkPassword(name, password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return fmt.Errorf("%w: not UTF-8", ErrWeakPassword)
	case n < MinPassword:
		return fmt.Errorf("%w: %d characters, want at least %d", ErrWeakPassword, n, MinPassword)
	case n > MaxPassword:
		return fmt.Errorf("%w: %d characters, want at most %d", ErrWeakPassword, n, MaxPassword)
	case strings.EqualFold(strings.TrimSpace(password), name):
		return fmt.Errorf("%w: the same as the user name", ErrWeakPassword)
	}
	for _, r := range password {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: control characters", ErrWeakPassword)
		}
	}
	return nil
}
