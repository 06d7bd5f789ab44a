package studio

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"govlive/accounts"
	"govlive/content"
	"govlive/stream"
)

// Anchors tells whether a bearer token is a live publishing token of a
// session, and whose (stream.Tokens). Until accounts exist, that is how a
// request shows it comes from an anchor of a private session.
type Anchors interface {
	Authorize(ctx context.Context, session stream.SessionID, token string) (anchor string, err error)
}

var _ Anchors = (*stream.Tokens)(nil)

// viewSession is the one place that decides whether a request may see
// the session its URL names (the route parameter param): every route that
// names a session asks it — the session API, its stats, its recordings
// and their downloads, WHEP playback. A public session is seen by
// everyone. A private one (public: false; anchors rehearse in it) only by
// its anchors: requests with Authorization: Bearer and a live publishing
// token of that session, or with the login of a user linked to one of
// its anchors (or of an admin; see loggedInAnchor). To everyone else a private session is exactly a
// session that does not exist — the same error, so the same status and
// body on every route: nothing tells that it exists.
//
// It returns the session as viewers see it (no links to draft FAQ
// entries).
func (s *Server) viewSession(c *fiber.Ctx, param string) (content.Session, error) {
	return s.viewSessionID(c, content.SessionID(strings.Clone(c.Params(param))))
}

// viewSessionID is viewSession for a session named elsewhere than in the
// route (the body of POST /api/ask).
func (s *Server) viewSessionID(c *fiber.Ctx, id content.SessionID) (content.Session, error) {
	ss, err := s.cfg.Content.ViewerSession(c.UserContext(), id)
	if err != nil || ss.Public {
		return ss, err
	}
	hidden := fmt.Errorf("session %s is private: %w", id, content.ErrNotFound)
	if _, ok, err := s.loggedInAnchor(c, id); ok || err != nil {
		if err != nil {
			return content.Session{}, fmt.Errorf("session %s: %w", id, err)
		}
		return ss, nil
	}
	token, ok := bearerToken(c.Get(fiber.HeaderAuthorization))
	if !ok || s.cfg.Anchors == nil {
		return content.Session{}, hidden
	}
	if _, err := s.cfg.Anchors.Authorize(c.UserContext(), stream.SessionID(id), token); err != nil {
		if errors.Is(err, stream.ErrUnauthorized) {
			return content.Session{}, hidden
		}
		return content.Session{}, fmt.Errorf("session %s: %w", id, err)
	}
	return ss, nil
}

// loggedInAnchor reports whether the request's login (see authenticate)
// is that of an anchor of session — a user linked to one of its anchors
// (accounts.AnchorLink) — or of an admin, and under which name they act:
// the anchor's, or the admin's display name.
func (s *Server) loggedInAnchor(c *fiber.Ctx, session content.SessionID) (name string, ok bool, err error) {
	u, ok := currentUser(c)
	if !ok || s.cfg.Accounts == nil {
		return "", false, nil
	}
	if u.Has(accounts.RoleAnchor) {
		name, ok, err := s.cfg.Accounts.AnchorName(c.UserContext(), u.ID, session)
		if err != nil || ok {
			return name, ok, err
		}
	}
	if u.Can(accounts.RoleAdmin) {
		return u.Display, true, nil
	}
	return "", false, nil
}
