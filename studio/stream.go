package studio

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"govlive/stream"
	"govlive/stream/record"
)

// Relay is the media relay behind the WHIP/WHEP endpoints.
type Relay interface {
	Publish(ctx context.Context, id stream.SessionID, token, offer string) (*stream.Answer, error)
	Play(ctx context.Context, id stream.SessionID, offer string) (*stream.Answer, error)
	Patch(ctx context.Context, session stream.SessionID, resource, token, ifMatch, frag string) error
	Delete(ctx context.Context, session stream.SessionID, resource, token string) error
	Stats(id stream.SessionID) (stream.SessionStats, bool)
	Slots() int
	ICEServers() []webrtc.ICEServer
}

var _ Relay = (*stream.Relay)(nil)

// Media types of WHIP/WHEP (RFC 9725) and trickle ICE (RFC 8840).
const (
	mimeSDP     = "application/sdp"
	mimeTrickle = "application/trickle-ice-sdpfrag"
)

// streamRoutes mounts WHIP, WHEP and the stream API.
func (s *Server) streamRoutes() {
	for _, kind := range []string{"whip", "whep"} {
		g := s.app.Group("/"+kind, s.cors)
		g.Options("/:session", s.preflight)
		g.Options("/:session/:id", s.preflight)
		g.Patch("/:session/:id", s.patchResource)
		g.Delete("/:session/:id", s.deleteResource)
	}
	s.app.Post("/whip/:session", s.cors, s.publish)
	s.app.Post("/whep/:session", s.cors, s.play)
	s.app.Get("/api/stream/config", s.streamConfig)
	s.app.Get("/api/sessions/:id/stats", s.sessionStats)
	s.app.Get("/api/sessions/:id/recordings", s.listRecordings)
	s.app.Get("/api/sessions/:id/recordings/:name", s.getRecording)
}

// metricsRoute serves the Prometheus registry at /metrics.
func (s *Server) metricsRoute(reg *prometheus.Registry) {
	s.app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
}

// cors lets a page on another origin publish and play (RFC 9725 §4.8).
func (s *Server) cors(c *fiber.Ctx) error {
	c.Set("Access-Control-Allow-Origin", "*")
	c.Set("Access-Control-Expose-Headers", "Location, ETag, Link, Accept-Patch, Accept-Post")
	return c.Next()
}

func (s *Server) preflight(c *fiber.Ctx) error {
	c.Set("Access-Control-Allow-Methods", "POST, PATCH, DELETE, OPTIONS")
	c.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
	c.Set("Access-Control-Max-Age", "86400")
	c.Set("Accept-Post", mimeSDP)
	s.iceLinks(c)
	return c.SendStatus(fiber.StatusNoContent)
}

// iceLinks advertises the STUN/TURN servers as Link headers (RFC 9725 §4.6).
func (s *Server) iceLinks(c *fiber.Ctx) {
	for _, srv := range s.cfg.Relay.ICEServers() {
		for _, u := range srv.URLs {
			link := fmt.Sprintf(`<%s>; rel="ice-server"`, u)
			if srv.Username != "" {
				link += fmt.Sprintf(`; username=%q; credential=%q; credential-type="password"`, srv.Username, fmt.Sprint(srv.Credential))
			}
			c.Append("Link", link)
		}
	}
}

// sdpBody returns the request's SDP, or 415 for another media type.
func sdpBody(c *fiber.Ctx, want string) (string, error) {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || !strings.EqualFold(mt, want) {
		return "", &statusError{fiber.StatusUnsupportedMediaType, "请求的内容类型须为 " + want}
	}
	return string(c.Body()), nil
}

// statusError carries its own status and Chinese message.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

func (s *Server) publish(c *fiber.Ctx) error {
	offer, err := sdpBody(c, mimeSDP)
	if err != nil {
		return err
	}
	token, ok := bearerToken(c.Get(fiber.HeaderAuthorization))
	if !ok {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="govlive"`)
		return stream.ErrUnauthorized
	}
	session := stream.SessionID(strings.Clone(c.Params("session")))
	ans, err := s.cfg.Relay.Publish(c.UserContext(), session, token, offer)
	if err != nil {
		return challenge(c, err)
	}
	return s.created(c, "whip", session, ans)
}

func (s *Server) play(c *fiber.Ctx) error {
	offer, err := sdpBody(c, mimeSDP)
	if err != nil {
		return err
	}
	ss, err := s.viewSession(c, "session")
	if err != nil {
		return err
	}
	session := stream.SessionID(ss.ID)
	ans, err := s.cfg.Relay.Play(c.UserContext(), session, offer)
	if err != nil {
		return err
	}
	return s.created(c, "whep", session, ans)
}

// created answers 201 with the resource's Location, ETag and the SDP.
func (s *Server) created(c *fiber.Ctx, kind string, session stream.SessionID, ans *stream.Answer) error {
	c.Set(fiber.HeaderLocation, "/"+kind+"/"+url.PathEscape(string(session))+"/"+ans.ID)
	if ans.ETag != "" {
		c.Set(fiber.HeaderETag, ans.ETag)
	}
	c.Set("Accept-Patch", mimeTrickle)
	s.iceLinks(c)
	c.Set(fiber.HeaderContentType, mimeSDP)
	return c.Status(fiber.StatusCreated).SendString(ans.SDP)
}

// bearerToken extracts the token of an Authorization header; the scheme
// name is case-insensitive (RFC 7235).
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	token = strings.TrimSpace(token)
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}

// resourceID checks that the id in the URL is of the URL's kind, and
// returns the request's bearer token for a WHIP resource: every request
// on a publication is authenticated with the publisher's token (RFC 9725
// §4.3); a WHEP resource's URL is its capability and takes none.
func resourceID(c *fiber.Ctx) (id, token string, err error) {
	id = strings.Clone(c.Params("id"))
	prefix := "v"
	whip := strings.HasPrefix(c.Path(), "/whip/")
	if whip {
		prefix = "p"
	}
	if !strings.HasPrefix(id, prefix) {
		return "", "", stream.ErrNotFound
	}
	if !whip {
		return id, "", nil
	}
	token, ok := bearerToken(c.Get(fiber.HeaderAuthorization))
	if !ok {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="govlive"`)
		return "", "", stream.ErrUnauthorized
	}
	return id, token, nil
}

// challenge adds the WWW-Authenticate challenge to a refused token.
func challenge(c *fiber.Ctx, err error) error {
	if errors.Is(err, stream.ErrUnauthorized) {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="govlive", error="invalid_token"`)
	}
	return err
}

func (s *Server) patchResource(c *fiber.Ctx) error {
	id, token, err := resourceID(c)
	if err != nil {
		return err
	}
	frag, err := sdpBody(c, mimeTrickle)
	if err != nil {
		return err
	}
	session := stream.SessionID(strings.Clone(c.Params("session")))
	if err := s.cfg.Relay.Patch(c.UserContext(), session, id, token, c.Get(fiber.HeaderIfMatch), frag); err != nil {
		return challenge(c, err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) deleteResource(c *fiber.Ctx) error {
	id, token, err := resourceID(c)
	if err != nil {
		return err
	}
	if err := s.cfg.Relay.Delete(c.UserContext(), stream.SessionID(strings.Clone(c.Params("session"))), id, token); err != nil {
		return challenge(c, err)
	}
	return c.SendStatus(fiber.StatusOK)
}

func (s *Server) streamConfig(c *fiber.Ctx) error {
	type iceServer struct {
		URLs       []string `json:"urls"`
		Username   string   `json:"username,omitempty"`
		Credential string   `json:"credential,omitempty"`
	}
	servers := []iceServer{}
	for _, srv := range s.cfg.Relay.ICEServers() {
		x := iceServer{URLs: srv.URLs, Username: srv.Username}
		if srv.Credential != nil {
			x.Credential = fmt.Sprint(srv.Credential)
		}
		servers = append(servers, x)
	}
	return c.JSON(fiber.Map{"ice_servers": servers, "slots": s.cfg.Relay.Slots()})
}

func (s *Server) sessionStats(c *fiber.Ctx) error {
	ss, err := s.viewSession(c, "id")
	if err != nil {
		return err
	}
	id := stream.SessionID(ss.ID)
	st, _ := s.cfg.Relay.Stats(id)
	return c.JSON(st)
}

// recordingInfo is a recording as the API lists it.
type recordingInfo struct {
	record.File
	URL string `json:"url"`
}

func (s *Server) listRecordings(c *fiber.Ctx) error {
	ss, err := s.viewSession(c, "id")
	if err != nil {
		return err
	}
	id := stream.SessionID(ss.ID)
	out := []recordingInfo{}
	if s.cfg.RecordDir != "" {
		files, err := record.List(s.cfg.RecordDir, string(id))
		if err != nil {
			return err
		}
		for _, f := range files {
			out = append(out, recordingInfo{File: f,
				URL: "/api/sessions/" + url.PathEscape(string(id)) + "/recordings/" + url.PathEscape(f.Name)})
		}
	}
	return c.JSON(fiber.Map{"items": out})
}

func (s *Server) getRecording(c *fiber.Ctx) error {
	ss, err := s.viewSession(c, "id")
	if err != nil {
		return err
	}
	id := stream.SessionID(ss.ID)
	if s.cfg.RecordDir == "" {
		return record.ErrNotFound
	}
	name, err := url.PathUnescape(c.Params("name"))
	if err != nil {
		return record.ErrNotFound
	}
	f, info, err := record.Open(s.cfg.RecordDir, string(id), name)
	if err != nil {
		return err
	}
	return download(c, f, map[string]string{
		fiber.HeaderContentType:        info.MimeType,
		fiber.HeaderContentDisposition: fmt.Sprintf(`attachment; filename*=UTF-8''%s`, url.PathEscape(info.Name)),
	})
}
