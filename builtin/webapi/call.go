package webapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
	"github.com/hookrt/hookd/internal/outbound"
)

// MaxAnswer is the largest answer a call reads; a longer one is a failure.
const MaxAnswer = 1 << 20

// ErrNotProvisioned is returned by calls made before [Service.Provision]:
// a programming error.
var ErrNotProvisioned = errors.New("webapi: the service is used before Provision")

var (
	_ hook.Module        = (*Service)(nil)
	_ hook.Validator     = (*Service)(nil)
	_ hook.Provisioner   = (*Service)(nil)
	_ hook.Closer        = (*Service)(nil)
	_ hook.RouteProvider = (*Service)(nil)
)

// Provision checks the settings, parses the template and builds the HTTP
// client with the delivery settings (their files read now). The service
// URL is the operator's, so no SSRF guard applies.
func (s *Service) Provision(_ context.Context, env hook.Env) error {
	s.withDefaults() // on the runtime's fresh copy of the section
	if err := s.validate(); err != nil {
		return err
	}
	if s.NotificationParams != "" {
		t, err := ParseTemplate(s.NotificationParams)
		if err != nil {
			return fmt.Errorf("notification_params: %w", err)
		}
		s.tmpl = t
	}
	s.urls = map[string]string{}
	for _, m := range []string{MethodSignup, MethodForgot, s.NotificationMethod} {
		u, err := methodURL(s.URL, m)
		if err != nil {
			return err
		}
		s.urls[m] = u
	}
	s.log = env.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.timeout = time.Duration(s.Timeout)
	s.calls = new(calls)
	count, err := newCallMetrics(env.Metrics)
	if err != nil {
		return err
	}
	s.count = count
	s.decider = env.Signup
	h, err := delivery.Build(s.Delivery, delivery.Env{PrivateDir: env.PrivateDir, Proxy: env.DeliveryProxy})
	if err != nil {
		return delivery.Prefix("delivery:", err)
	}
	// One client for the notifications and the synchronous calls: the
	// same service, reached the same way.
	s.client = outbound.New(h.Options(outbound.Options{Timeout: s.timeout, UserAgent: env.UserAgent, MaxBody: MaxAnswer}))
	s.log.Info("external WebAPI ready", slog.String("url", redacted(s.URL)), slog.Duration("timeout", s.timeout),
		slog.Bool("signup", s.UseSignup), slog.String("signup_plugin", s.SignupPlugin), slog.Bool("notification", s.UseNotification),
		slog.Bool("forgot_password", s.UseForgotPassword))
	return nil
}

// Close releases idle connections.
func (s *Service) Close() error {
	if s.client != nil {
		s.client.CloseIdleConnections()
	}
	return nil
}

// methodURL returns base with the control fields set for method, ending in
// "hl=" so that a call appends its language. Fields of base's own query
// are kept (raw, in order) unless they are control fields.
func methodURL(base, method string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("url: %w", err)
	}
	var q strings.Builder
	for _, kv := range strings.Split(u.RawQuery, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if name, err := url.QueryUnescape(k); kv == "" || err == nil && isControl(name) {
			continue
		}
		q.WriteString(kv)
		q.WriteByte('&')
	}
	// method is [a-z0-9_/]: nothing to escape, and the slashes stay
	// readable in the service's logs.
	q.WriteString("method=" + method + "&he=JSON1&ho=JSON1&hl=")
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	return u.String() + "?" + q.String(), nil
}

// isControl reports whether name is a WebAPI control field hookd sets.
func isControl(name string) bool {
	switch name {
	case "method", "he", "ho", "hl", "lang":
		return true
	}
	return false
}

// redacted is the URL without a password, for logs.
func redacted(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return u.Redacted()
}

// call POSTs body to method and parses the answer. A non-nil error is a
// failure of the call (transport, timeout, non-2xx, too large, unparsable);
// it keeps outbound.Classify's wrapping (410 → hook.Disable, Retry-After →
// hook.RetryAfter). resp is what was received, possibly nil.
func (s *Service) call(ctx context.Context, method, lang string, body []byte, eventID string) (*outbound.Response, *Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.urls[method]+lang, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if eventID != "" {
		req.Header.Set("X-Event-Id", eventID)
	}
	resp, err := s.client.Do(ctx, req)
	if err != nil {
		return resp, nil, err
	}
	if _, err := outbound.Classify(resp, nil); err != nil {
		return resp, nil, err
	}
	if resp.Truncated {
		return resp, nil, fmt.Errorf("HTTP %d but answer larger than 1 MiB", resp.Status)
	}
	a, err := ParseAnswer(resp.Body)
	if err != nil {
		return resp, nil, fmt.Errorf("HTTP %d but %w: %s", resp.Status, err, outbound.Excerpt(resp.Body, 200))
	}
	return resp, a, nil
}

// status is resp's status, 0 without one.
func status(resp *outbound.Response) int {
	if resp == nil {
		return 0
	}
	return resp.Status
}
