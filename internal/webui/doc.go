// Package webui is what hookd's server-rendered pages share: the admin
// page (/admin/, the operator) and the domain owners' portal (/portal/,
// one domain's token). Both log in with a token pasted into a form, keep
// the login as a session in memory, post every change as a form carrying
// the session's CSRF token from a page of the same origin, and answer with
// the same security headers. Keeping that here means the two pages cannot
// drift apart on any of it: a fix to the origin check or the cookie is made
// once.
//
// A [Site] is one such page: its path prefix, its cookie, its sessions,
// its templates. A package builds one with [NewSite], registers its pages
// through [Site.Page], [Site.Action], [Site.Upload] and [Site.API], and
// serves through [Site.ServeHTTP].
//
// What both sites show alike is here too, so that it is written once: the
// frame of every page (templates/layout.html: a site fills in its menu,
// [Options.Menu], and a few parts of its own), the pages of the delivery
// log ([Deliveries]: the list, the dead letters, one delivery, retry,
// discard, bulk replay and a session's record, over an [ops.Scope]), and
// the login, error and delivery pages (templates/pages). The admin page
// and the portal differ only in their scope (the operator's, one
// domain's: [DeliveriesOptions.Scoped]) and in their own pages.
//
// # Security
//
// A login starts a session: a random id in a cookie (HttpOnly,
// SameSite=Strict, scoped to the site's prefix, Secure over TLS or behind
// a TLS-terminating proxy), kept in the process's memory, keyed by the
// SHA-256 of the id. Logins are slowed by [authguard] per address. A site
// may re-check a session's credential at every request ([Options.Check]):
// the portal does, so a revoked or expired domain token ends its sessions
// at once.
//
// Every POST must carry the session's CSRF token (compared in constant
// time) and come from this origin: Sec-Fetch-Site, when present, must be
// same-origin, and Origin (or else Referer) must name this host. Every
// answer carries a Content-Security-Policy allowing only the page's own
// origin, X-Frame-Options: DENY, Cache-Control: no-store and nosniff.
package webui
