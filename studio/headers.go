package studio

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// contentSecurityPolicy is the policy of every answer. The pages load
// their scripts and stylesheets from /assets/ on this origin and nothing
// inline; they fetch the JSON API and do WHIP/WHEP on this origin
// (WebRTC media is not governed by connect-src); video plays from
// MediaStreams (srcObject, not governed by media-src). Nothing may frame
// a page, and Trusted Types forbid string-to-DOM sinks (innerHTML and the
// like), which the pages do not use. On a JSON answer the policy does no
// harm and keeps a browser from running anything it is tricked into
// rendering.
const contentSecurityPolicy = "default-src 'self'; " +
	"script-src 'self'; " +
	"style-src 'self'; " +
	"img-src 'self' data:; " +
	"media-src 'self'; " +
	"connect-src 'self'; " +
	"object-src 'none'; " +
	"base-uri 'none'; " +
	"frame-ancestors 'none'; " +
	"form-action 'self'; " +
	"require-trusted-types-for 'script'; " +
	"trusted-types 'none'"

// Permissions policies: the publish page and the anchor console open the camera and the
// microphone; no other page uses a device.
const (
	permissionsNone    = "camera=(), microphone=(), geolocation=(), display-capture=()"
	permissionsPublish = "camera=(self), microphone=(self), geolocation=(), display-capture=()"
)

// publishPrefix is the path of the publish page (see pageRoutes).
const publishPrefix = "/publish/"

// securityHeaders is the middleware that gives every answer (pages,
// assets, the JSON API, errors) the browser's security headers. It sets
// them before the handler runs, so an error answer has them too.
func securityHeaders(c *fiber.Ctx) error {
	setSecurityHeaders(c)
	return c.Next()
}

// setSecurityHeaders sets the security headers on c's answer.
//
// Referrer-Policy is no-referrer: the publish page (and a private
// session's watch page) carries the anchor's token in its URL
// (?token=), which would otherwise go out in the Referer of every
// request the page makes, into access logs of proxies on the way; govlive
// reads no Referer.
func setSecurityHeaders(c *fiber.Ctx) {
	h := &c.Response().Header
	h.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
	h.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	h.Set(fiber.HeaderXFrameOptions, "DENY")
	h.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	h.Set(fiber.HeaderPermissionsPolicy, permissionsOf(c.Path()))
}

// permissionsOf answers the Permissions-Policy of the page at path. Routes
// are matched without regard to case, and so is the prefix.
func permissionsOf(path string) string {
	for _, prefix := range []string{publishPrefix, consolePrefix} {
		if len(path) > len(prefix) && strings.EqualFold(path[:len(prefix)], prefix) {
			return permissionsPublish
		}
	}
	return permissionsNone
}
