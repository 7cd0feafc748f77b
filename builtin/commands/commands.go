// Package commands is the command sink of the daemon: XMLMSG commands that
// scripts (and plugins) return, such as dropping a session, are POSTed as
// text/xml to the proxy's XMLMSG endpoint, durably and retried like any
// delivery. Every command of a script's XMLMSG document comes here, those
// hookd does not know included (re-encoded and size-bounded by
// internal/xmlmsg): the proxy executes or refuses them, checking the
// database secret as for any XMLMSG it receives.
//
//	[commands]
//	xmlmsg_url = "http://localhost:7615/xmlmsg"
//
//	[commands.delivery]   # optional: how the endpoint is reached (internal/delivery)
//	headers = { Authorization = { file = "xmlmsg.token" } }
//
// An embedding Go proxy uses a callback instead: a target named
// hook.CommandsTarget (runtime.WithCommandSink).
package commands

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
	"github.com/hookrt/hookd/internal/outbound"
)

// ID is the module ID and config section.
const ID = "commands"

// Info registers the module.
var Info = hook.ModuleInfo{ID: ID, New: func() hook.Module { return new(Sink) }}

// Sink is the [commands] section and its handler.
type Sink struct {
	XMLMsgURL string `toml:"xmlmsg_url"`
	// Delivery is the [commands.delivery] table: headers, signing, TLS,
	// proxy, rate limit and order of the command requests
	// (internal/delivery); nil sets none. A filter is refused: commands
	// are addressed to the sink by name, never routed (hook.Never), so
	// the engine would never apply it.
	Delivery *hook.DeliverySettings `toml:"delivery"`

	client *outbound.Client
}

var (
	_ hook.Module      = (*Sink)(nil)
	_ hook.Validator   = (*Sink)(nil)
	_ hook.Provisioner = (*Sink)(nil)
	_ hook.Handler     = (*Sink)(nil)
	_ hook.Closer      = (*Sink)(nil)
)

// Validate checks the URL and the delivery settings.
func (s *Sink) Validate() error {
	var errs []error
	if s.XMLMsgURL == "" {
		errs = append(errs, errors.New("xmlmsg_url: required: the proxy's XMLMSG endpoint, e.g. http://localhost:7615/xmlmsg"))
	} else if u, err := url.Parse(s.XMLMsgURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("xmlmsg_url: must be an absolute http:// or https:// URL, got %q", s.XMLMsgURL))
	}
	if err := delivery.Validate(s.Delivery); err != nil {
		errs = append(errs, delivery.Prefix("delivery:", err))
	}
	if s.Delivery != nil && !s.Delivery.Filter.IsZero() {
		errs = append(errs, errors.New("delivery: filter: the command sink receives the commands scripts and plugins return, addressed to it, not routed events: "+
			"a filter would never apply; leave it out (a script or plugin decides which commands it returns)"))
	}
	return errors.Join(errs...)
}

// Provision builds the client with the delivery settings (their files
// read now); the endpoint is the operator's, trusted: no SSRF guard.
func (s *Sink) Provision(_ context.Context, env hook.Env) error {
	h, err := delivery.Build(s.Delivery, delivery.Env{PrivateDir: env.PrivateDir, Proxy: env.DeliveryProxy})
	if err != nil {
		return delivery.Prefix("delivery:", err)
	}
	s.client = outbound.New(h.Options(outbound.Options{Timeout: env.RequestTimeout, UserAgent: env.UserAgent}))
	return nil
}

// Close releases idle connections.
func (s *Sink) Close() error {
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
	return nil
}

// Targets returns the command sink target; it receives only what the
// runtime routes to it by name.
func (s *Sink) Targets() []hook.Target {
	return []hook.Target{{Name: hook.CommandsTarget, Handler: s, Match: hook.Never, Delivery: s.Delivery}}
}

// Handle POSTs the XMLMSG document; any 2xx delivers it.
func (s *Sink) Handle(ctx context.Context, ev *hook.Event) (hook.Result, error) {
	doc := ev.Get(hook.CommandFieldXML)
	if doc == "" {
		return hook.Result{}, hook.Permanent(errors.New("command event without an XML document"))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.XMLMsgURL, strings.NewReader(doc))
	if err != nil {
		return hook.Result{}, hook.Permanent(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("X-Event-Id", ev.ID)
	return outbound.Classify(s.client.Do(ctx, req))
}
