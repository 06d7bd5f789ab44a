package studio

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"govlive/accounts"
	"govlive/content"
	"govlive/stream"
)

// grantPrefix marks the console's publishing tokens (the lasting ones of
// stream.Tokens start with glt_).
const grantPrefix = "glc_"

// DefaultGrantTTL is how long a console's publishing token lets its
// anchor start a publication: a long broadcast day.
const DefaultGrantTTL = 12 * time.Hour

// Grants are the short-lived publishing tokens of the anchor console: a
// logged-in anchor's browser has no lasting token, so its go-live button
// asks for one (POST /api/sessions/{id}/console/publish) and sends it as
// the bearer token of its WHIP requests. They live in memory only (a
// restart ends them; the console asks again) and as digests; each is
// bound to a session, an anchor and the user it was issued to, and
// Authorize checks again that the user may still act as that anchor (not
// disabled, still linked, or an admin). Grants is a stream.Authorizer:
// the relay takes it beside the lasting tokens (AnyAuthorizer).
type Grants struct {
	mu  sync.Mutex
	m   map[[32]byte]grant
	ttl time.Duration
	now func() time.Time
	acc *accounts.Store // set by New from Config.Accounts
}

type grant struct {
	session content.SessionID
	anchor  string
	user    accounts.UserID
	expires time.Time
}

// NewGrants returns an empty set of grants that last ttl (0:
// DefaultGrantTTL) by the clock now (nil: time.Now).
func NewGrants(ttl time.Duration, now func() time.Time) *Grants {
	if ttl <= 0 {
		ttl = DefaultGrantTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Grants{m: map[[32]byte]grant{}, ttl: ttl, now: now}
}

// Issue returns a new token for anchor of session, issued to user.
func (g *Grants) Issue(session content.SessionID, anchor string, user accounts.UserID) (string, error) {
	tok, err := randomToken()
	if err != nil {
		return "", fmt.Errorf("publishing grant: %w", err)
	}
	tok = grantPrefix + tok
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, v := range g.m {
		if !now.Before(v.expires) {
			delete(g.m, k)
		}
	}
	g.m[sha256.Sum256([]byte(tok))] = grant{session: session, anchor: anchor, user: user, expires: now.Add(g.ttl)}
	return tok, nil
}

// Authorize implements stream.Authorizer: the anchor a live grant of
// session was issued for, or stream.ErrUnauthorized.
func (g *Grants) Authorize(ctx context.Context, session stream.SessionID, token string) (string, error) {
	if len(token) <= len(grantPrefix) || token[:len(grantPrefix)] != grantPrefix {
		return "", stream.ErrUnauthorized
	}
	key := sha256.Sum256([]byte(token))

	g.mu.Lock()
	gr, ok := g.m[key]
	g.mu.Unlock()
	if !ok || string(gr.session) != string(session) || !g.now().Before(gr.expires) {
		return "", stream.ErrUnauthorized
	}
	if g.acc == nil {
		return gr.anchor, nil
	}
	u, err := g.acc.User(ctx, gr.user)
	if errors.Is(err, accounts.ErrNotFound) {
		return "", stream.ErrUnauthorized
	}
	if err != nil {
		return "", fmt.Errorf("publishing grant: %w", err)
	}
	if u.Disabled {
		return "", stream.ErrUnauthorized
	}
	if u.Has(accounts.RoleAnchor) {
		name, ok, err := g.acc.AnchorName(ctx, u.ID, gr.session)
		if err != nil {
			return "", fmt.Errorf("publishing grant: %w", err)
		}
		if ok && name == gr.anchor {
			return gr.anchor, nil
		}
	}
	if u.Can(accounts.RoleAdmin) {
		return gr.anchor, nil
	}
	return "", stream.ErrUnauthorized
}

// AnyAuthorizer asks each authorizer in turn and answers the first that
// knows the token: the relay's lasting tokens and the console's grants.
type AnyAuthorizer []stream.Authorizer

// Authorize implements stream.Authorizer.
func (a AnyAuthorizer) Authorize(ctx context.Context, session stream.SessionID, token string) (string, error) {
	for _, x := range a {
		anchor, err := x.Authorize(ctx, session, token)
		if !errors.Is(err, stream.ErrUnauthorized) {
			return anchor, err
		}
	}
	return "", stream.ErrUnauthorized
}
