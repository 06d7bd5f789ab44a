package studio

import (
	"context"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/sync/singleflight"
)

// Versioner names the content as it is now (content.Store.Version): equal
// versions mean equal content.
type Versioner interface {
	Version(ctx context.Context) (int64, error)
}

// pageCache keeps the encoded answers of the read API for the current
// content version: content changes rarely and is read by every viewer, so
// a page is queried and encoded once per version, not once per request.
// Each answer carries an ETag (a hash of its bytes); a client that sends
// it back in If-None-Match gets 304. Concurrent misses of one page wait
// for one computation. The cache is emptied when the version changes and
// bounded in bytes (emptied when full).
type pageCache struct {
	content Versioner
	group   singleflight.Group

	mu      sync.Mutex
	version int64
	pages   map[string]cachedPage
	size    int
}

type cachedPage struct {
	body  []byte
	etag  string
	ctype string
}

// maxCacheBytes bounds the bodies a pageCache holds.
const maxCacheBytes = 64 << 20

func (pc *pageCache) get(version int64, key string) (cachedPage, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.version != version {
		return cachedPage{}, false
	}
	p, ok := pc.pages[key]
	return p, ok
}

func (pc *pageCache) put(version int64, key string, p cachedPage) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if version < pc.version {
		return // computed from content that has changed since
	}
	if version > pc.version || pc.size+len(p.body) > maxCacheBytes {
		pc.version, pc.pages, pc.size = version, map[string]cachedPage{}, 0
	}
	pc.pages[key] = p
	pc.size += len(p.body)
}

// cached serves a GET of the read API from the cache, and fills it.
// Requests that carry credentials (a bearer token, a login) are not
// cached: what they see may differ from what everyone sees.
func (s *Server) cached(c *fiber.Ctx) error {
	_, login := currentUser(c)
	if c.Method() != fiber.MethodGet || len(c.Request().Header.Peek(fiber.HeaderAuthorization)) > 0 || login {
		return c.Next()
	}
	version, err := s.pages.content.Version(c.UserContext())
	if err != nil {
		return err
	}
	key := c.Path() + "?" + string(c.Request().URI().QueryString())
	p, ok := s.pages.get(version, key)
	if !ok {
		// One request computes the page; the others of the same moment
		// take its bytes. An error answer is not shared: each computes.
		leader := false
		v, err, _ := s.pages.group.Do(key, func() (any, error) {
			leader = true
			if p, ok := s.pages.get(version, key); ok {
				return p, nil
			}
			if err := c.Next(); err != nil {
				return nil, err
			}
			if c.Response().StatusCode() != fiber.StatusOK {
				return nil, errNotCacheable
			}
			p := cachedPage{body: append([]byte(nil), c.Response().Body()...),
				ctype: string(c.Response().Header.ContentType())}
			h := fnv.New64a()
			h.Write(p.body)
			p.etag = `"` + hex.EncodeToString(h.Sum(nil)) + `"`
			s.pages.put(version, key, p)
			return p, nil
		})
		switch {
		case err == nil:
			p = v.(cachedPage)
		case !leader:
			return c.Next() // the request that computed failed: compute our own
		case errors.Is(err, errNotCacheable):
			return nil // answered as it is
		default:
			return err
		}
	}
	c.Set(fiber.HeaderETag, p.etag)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	if etagMatch(c.Get(fiber.HeaderIfNoneMatch), p.etag) {
		c.Response().ResetBody()
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, p.ctype)
	return c.Status(fiber.StatusOK).Send(p.body)
}

// errNotCacheable: the answer was not a 200.
var errNotCacheable = errors.New("not cacheable")

// etagMatch reports whether an If-None-Match header names etag (weak
// comparison, RFC 9110 §13.1.2).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
