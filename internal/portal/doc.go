// Package portal is hookd's portal for domain owners: a server-rendered
// web page, served by the daemon at /portal/ beside the admin page, where
// the owner of one domain logs in with one of its domain tokens and sees
// and steers that domain only. [New] returns an [http.Handler] serving a
// [Backend], which the public runtime implements.
//
//	routes = append(routes, hook.Route{Pattern: "/portal/", Handler: portal.New(rt, portal.Options{Logger: log, MaxPluginSize: cfg.Domains.MaxPluginSize})})
//
// # Pages
//
//	GET  /portal/                       the domain's deliveries, newest first, each with why it is where it is;
//	                                    filters state, event_id, since; paging with before=<id>; the domain's summary
//	GET  /portal/dead                   its dead letters
//	GET  /portal/deliveries/{id}        one of its deliveries: the event's fields and every attempt
//	GET  /portal/sessions?id=…          a session's events that went to the domain, with their outcome
//	GET  /portal/plugin                 the active plugin version, every stored version, the upload and dry-run forms
//	GET  /portal/logs                   the last lines its plugin wrote, on every node
//	GET  /portal/settings               its settings (the keys of a [[domain]] entry) and the audit of its changes
//	GET  /portal/login                  the login form
//
// # Actions
//
// Every change is a POST of a form answered with a redirect back to the
// page it came from, which says what happened; the dry run, which changes
// nothing, answers with its results.
//
//	POST /portal/deliveries/{id}/retry, /discard
//	POST /portal/deliveries/replay                 state (dead, discarded, retrying), since
//	POST /portal/plugin/upload                     multipart: module (.wasm), settings (JSON), activate
//	POST /portal/plugin/test                       multipart: module or version, settings, events (JSON) or last, stubs, live_http
//	POST /portal/plugin/versions/{version}/activate (an older one: a rollback)
//	POST /portal/plugin/versions/{version}/delete
//	POST /portal/settings                          spec (JSON)
//	POST /portal/login, /portal/logout
//
// # Isolation
//
// The portal decides nothing about who may see what: the delivery log is
// read through [ops] scoped to the session's principal, and the domain's
// plugin, logs and settings through the runtime's domain methods, which
// take the principal. Another domain's delivery, session or version is
// answered as one that does not exist (404). TestIsolation walks every
// route with one domain's token against another's resources.
//
// # Security
//
// Sessions, CSRF, the origin check, the login back-off and the security
// headers are the admin page's ([webui]). A session re-checks its domain
// token at every request: revoking the token, or its expiry, ends it. The
// portal has no script.
package portal
