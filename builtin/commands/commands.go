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
	"github.com/hookrt/hookd/internal/outbound"
)

// ID is the module ID and config section.
const ID = "commands"

// Info registers the module.
var Info = hook.ModuleInfo{ID: ID, New: func() hook.Module { return new(Sink) }}

// Sink is the [commands] section and its handler.
type Sink struct {
	XMLMsgURL string `toml:"xmlmsg_url"`

	client *outbound.Client
}

var (
	_ hook.Module      = (*Sink)(nil)
	_ hook.Validator   = (*Sink)(nil)
	_ hook.Provisioner = (*Sink)(nil)
	_ hook.Handler     = (*Sink)(nil)
)

// Validate checks the URL.
func (s *Sink) Validate() error {
	if s.XMLMsgURL == "" {
		return errors.New("xmlmsg_url: required: the proxy's XMLMSG endpoint, e.g. http://localhost:7615/xmlmsg")
	}
	u, err := url.Parse(s.XMLMsgURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("xmlmsg_url: must be an absolute http:// or https:// URL, got %q", s.XMLMsgURL)
	}
	return nil
}

// Provision builds the client; the endpoint is the operator's, trusted.
func (s *Sink) Provision(_ context.Context, env hook.Env) error {
	s.client = outbound.New(outbound.Options{Timeout: env.RequestTimeout, UserAgent: env.UserAgent})
	return nil
}

// Targets returns the command sink target; it receives only what the
// runtime routes to it by name.
func (s *Sink) Targets() []hook.Target {
	return []hook.Target{{Name: hook.CommandsTarget, Handler: s, Match: hook.Never}}
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
