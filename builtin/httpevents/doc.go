// Package httpevents delivers every proxy event to a global events script
// and to the script of the event's domain, as ISL Conference Proxy's HTTP
// events do, with optional strict error checking.
//
// # Configuration
//
//	[http_events]
//	global = true
//	global_server = "localhost:8080"          # host:port, or http(s)://host:port
//	global_path = "/isl-cp-example-events-to-sql"
//	global_strict = true
//	per_domain = true
//	per_domain_strict = false
//	save_to_session = false                   # index events with a SESSIONID into session records
//	timeout = "10s"                           # one attempt; default [delivery] timeout
//	combine_interval = 0                      # 0–300 s; > 0 sends a target's events together
//	allow_private = []                        # CIDRs per-domain scripts may reach despite the SSRF guard
//
//	[[domain]]
//	id = "5"
//	script = "https://acme.example/isl-events"
//	strict = true                             # optional; overrides per_domain_strict
//	combine_interval = "30s"                  # optional; overrides combine_interval
//
// Every event goes to the global script (when global is on) and to the
// script of its DOMAIN_ID (when per_domain is on and the domain has one),
// independently: each target has its own strictness, retries and log.
//
// # Wire format
//
// POST, Content-Type application/x-www-form-urlencoded; charset=utf-8, the
// event's fields (names case-preserved, sorted) plus EVENT_ID; headers
// User-Agent hookd/<version> and X-Event-Id. Field names and values are
// sent as received: EVENT "NEW SESSION" stays "NEW SESSION".
//
// A combined request (combine_interval > 0) carries the events of one
// interval, oldest first: every field suffixed with the event's index
// (MODULE_0, EVENT_0, EVENT_ID_0, …, MODULE_1, …) and COUNT = the number
// of events; header X-Hookd-Batch = COUNT. It is acknowledged or failed as
// a whole.
//
// # Strict and not strict
//
// Strict: success is a 2xx answer whose body is well-formed XML, as the
// proxy's documentation asks ("valid XML content"; internal/xmlmsg.Judge,
// the rule plugins follow too). <nomessage/> does nothing; an XMLMSG
// document (root <module>) is forwarded whole to the command sink, every
// command in it, those hookd does not know included, for the proxy to
// execute or refuse; any other XML is acknowledged and its attempt record
// says "acknowledged: XML not an XMLMSG document, nothing executed (…)". A
// non-2xx answer or a body that is not XML ("HTTP 200 but body is not XML:
// <html>…") is a failure, recorded with its reason and retried on the
// delivery schedule until acknowledged. Not strict: one attempt, any HTTP
// answer delivers; transport errors get at most 3 attempts (after 100 ms
// and 500 ms). In both modes, XMLMSG commands in a 2xx reply go to the
// command sink ([commands] xmlmsg_url, or a Go callback when embedded).
//
// # Trust
//
// The global server is the operator's and trusted as configured.
// Per-domain script URLs come from domain owners: the address actually
// dialled (after DNS) must not be loopback, private, link-local or a cloud
// metadata address, unless it is inside allow_private.
package httpevents
