package accounts

import "context"

type ctxKey struct{}

// NewContext returns ctx carrying the logged-in user (the studio's
// middleware puts it there for the handlers and what they call).
func NewContext(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// UserFromContext returns the logged-in user ctx carries; ok is false
// for a request without a login (a viewer, or a publishing token).
func UserFromContext(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(ctxKey{}).(User)
	return u, ok && u.ID != 0
}

// ActorFromContext is the Actor of the logged-in user ctx carries, for a
// content revision; ok is false without a login.
func ActorFromContext(ctx context.Context) (string, bool) {
	u, ok := UserFromContext(ctx)
	if !ok {
		return "", false
	}
	return u.Actor(), true
}
