// Package admin is hookd's admin page: a server-rendered web page, served
// by the daemon at /admin/ on the API's listener, where an operator looks
// at deliveries and steers them. [New] returns an [http.Handler] serving a
// [Backend], which the public runtime implements.
//
// The page is a view: the delivery-log query, the replay's filter, what
// the operator may see, the chart's data, the plugins' status and the
// redacted config come from the operations room (internal/ops), which the
// API, the domain owners' portal and the CLI read too; the sessions, CSRF,
// origin checks and page machinery are shared with the portal
// (internal/webui).
//
//	routes = append(routes, hook.Route{Pattern: "/admin/", Handler: admin.New(rt, admin.Options{Token: token, Logger: log, Config: cfg.Redacted})})
//
// # Pages
//
//	GET  /admin/                       deliveries, newest first: filters state, target, event_id, since
//	                                   (90m, 24h, RFC 3339, or a UTC date and time), paging with before=<id>;
//	                                   a live chart of deliveries/s and attempt latency (p50, p99)
//	GET  /admin/dead                   the dead letters (the list with state dead)
//	GET  /admin/deliveries/{id}        one delivery: its event's fields and every attempt
//	GET  /admin/targets                targets: state and why, breaker, in flight, pending, oldest, last error
//	GET  /admin/sessions?id=…          a session's record: its events and their outcome at every target
//	GET  /admin/plugins                WASM plugins: file, SHA-256, warm instances, calls by outcome, reloads
//	GET  /admin/domains                the domains: config file's and stored; ?id= opens one
//	GET  /admin/domains/{id}           one domain: settings (secrets redacted), plugin versions, tokens, changes
//	GET  /admin/config                 the effective config, secrets redacted
//	GET  /admin/stats.json             the chart's data (per second, the last five minutes)
//	GET  /admin/login                  the login form
//
// # Actions
//
// Every change is a POST of a form, answered with a redirect back to the
// page it came from (303), which then says what happened; a GET never
// changes anything. Two answers are pages instead: a confirm page (a
// replay into a target that is not enabled, deleting a domain), and a new
// domain token, which is shown on the answer to its POST and nowhere
// else (not in a redirect, a flash or a log).
//
// The Domains pages are served when the Backend is also a
// [DomainBackend] (the runtime is); they ask its methods as the operator.
//
//	POST /admin/deliveries/{id}/retry  replay one delivery
//	POST /admin/deliveries/{id}/discard
//	POST /admin/deliveries/replay      replay in bulk: state (dead, discarded, retrying), target, since
//	POST /admin/targets/action         name, action (disable, pause, enable, resume), reason
//	POST /admin/plugins/reload         reload changed plugin files now
//	POST /admin/domains/{id}/tokens    name, ttl: answered with the page that shows the token, once
//	POST /admin/domains/{id}/tokens/{token}/revoke
//	POST /admin/domains/{id}/delete    asks on a confirm page first; force=1 deletes
//	POST /admin/login, /admin/logout
//
// # Security
//
// The page asks for the API's bearer token ([Options.Token]) in a login
// form; the token is compared in constant time, and never logged, put in a
// page or in a URL. A login starts a session: a random id in a cookie
// (HttpOnly, SameSite=Strict, Path=/admin/, Secure over TLS), kept in this
// process's memory for [Options.SessionTTL]; logging out ends it. Without a
// token (the API on loopback) no login is asked, but a session is still
// made, for the CSRF token.
//
// Every POST must carry the session's CSRF token (a hidden form field,
// compared in constant time) and come from this origin: Sec-Fetch-Site,
// when present, must be same-origin, and Origin (or else Referer) must name
// this host. Forms are at most 16 KiB; filters and names are bounded.
//
// Every answer carries a Content-Security-Policy that allows only the
// page's own origin (no inline script or style, no framing, forms posted
// only here), X-Frame-Options: DENY, Cache-Control: no-store and
// X-Content-Type-Options: nosniff. The templates, stylesheet and the small
// script are embedded; nothing is loaded from elsewhere. The script only
// draws the chart and offers auto-refresh: every page works as plain HTML.
//
// # Logging
//
// Operators' actions are logged at info level with the remote address;
// failed logins and refused requests at warn; backend errors answered with
// a 500 page at error level.
package admin
