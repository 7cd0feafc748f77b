package jwtwebhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
	"github.com/hookrt/hookd/internal/jwtsign"
	"github.com/hookrt/hookd/internal/outbound"
)

// Info registers the module. A section decodes over the default lifetime,
// so that a parsed config shows it.
var Info = hook.ModuleInfo{ID: ID, New: func() hook.Module { return &Webhook{Lifetime: hook.Duration(defaultLifetime)} }}

// Webhook is the [jwt_webhook] section and, once provisioned, its handler.
type Webhook struct {
	URL          string        `toml:"url"`
	PrivateKey   string        `toml:"private_key"`
	Alg          string        `toml:"alg"`
	Claims       Claims        `toml:"claims"`
	Lifetime     hook.Duration `toml:"lifetime"`
	PreviousKeys []string      `toml:"previous_keys"`
	Events       Events        `toml:"events"`
	// Delivery is the [jwt_webhook.delivery] table: headers, signing,
	// TLS, proxy, filter, rate limit and order of the webhook's requests
	// (internal/delivery); nil sets none.
	Delivery *hook.DeliverySettings `toml:"delivery"`

	// Now is the clock tokens are stamped with; nil means time.Now. Tests
	// set it to step time between attempts without sleeping.
	Now func() time.Time `toml:"-"`

	key    *jwtsign.Key
	prev   []*jwtsign.Key
	client *outbound.Client
	events map[string]string
	plan   []claim // the claims of every token, in name order (claims.go)
	log    *slog.Logger
}

var (
	_ hook.Module        = (*Webhook)(nil)
	_ hook.Validator     = (*Webhook)(nil)
	_ hook.Provisioner   = (*Webhook)(nil)
	_ hook.Closer        = (*Webhook)(nil)
	_ hook.JWKSPublisher = (*Webhook)(nil)
	_ hook.Handler       = (*Webhook)(nil)
)

// Provision loads the signing key (and the previous keys still published)
// and builds the HTTP client with the delivery settings (their files read
// now, so that a missing one stops the start, not the first delivery).
func (w *Webhook) Provision(_ context.Context, env hook.Env) error {
	key, err := jwtsign.LoadKey(env.PrivateDir, w.PrivateKey, w.Alg)
	if err != nil {
		return fmt.Errorf("private_key: %w", err)
	}
	w.key = key
	if w.plan, err = claimPlan(w.Claims); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	for _, name := range w.PreviousKeys {
		k, err := jwtsign.LoadKey(env.PrivateDir, name, "")
		if err != nil {
			return fmt.Errorf("previous_keys: %w", err)
		}
		w.prev = append(w.prev, k)
	}
	h, err := delivery.Build(w.Delivery, delivery.Env{PrivateDir: env.PrivateDir, Proxy: env.DeliveryProxy})
	if err != nil {
		return delivery.Prefix("delivery:", err)
	}
	w.client = outbound.New(h.Options(outbound.Options{Timeout: env.RequestTimeout, UserAgent: env.UserAgent}))
	w.events = w.Events.enabled()
	w.log = env.Logger
	w.log.Info("jwt webhook ready", slog.String("url", w.URL), slog.Any("key", w.key))
	return nil
}

// Targets returns the one webhook target: the enabled events, retried until
// acknowledged (bounded by the delivery maximum age).
func (w *Webhook) Targets() []hook.Target {
	return []hook.Target{{
		Name:     ID,
		Handler:  w,
		Match:    func(ev *hook.Event) bool { _, ok := w.events[ev.Name()]; return ok },
		Delivery: w.Delivery,
	}}
}

// PublicJWKs returns the signing key and the previous keys.
func (w *Webhook) PublicJWKs() []json.RawMessage {
	out := []json.RawMessage{w.key.PublicJWK()}
	for _, k := range w.prev {
		out = append(out, k.PublicJWK())
	}
	return out
}

// Close releases idle connections.
func (w *Webhook) Close() error {
	if w.client != nil {
		w.client.CloseIdleConnections()
	}
	return nil
}

// Token signs the claims for ev at time now: the configured claims and
// iat, exp, jti, event, module, server_id, domain_id and data (the
// event's fields), written as JSON into a pooled buffer (claims.go).
func (w *Webhook) Token(ev *hook.Event, now time.Time) (string, error) {
	buf := buffers.Get().(*claimsBuffer)
	buf.json, buf.names = w.appendClaims(buf.json[:0], buf.names, ev, now)
	tok, err := w.key.SignJSON(buf.json)
	if cap(buf.json) <= maxPooledClaims {
		buffers.Put(buf)
	}
	return tok, err
}

// maxPooledClaims bounds the buffers kept for the next token: an event
// near hook.MaxEventBytes makes one that is not kept.
const maxPooledClaims = 16 << 10

// now is the clock tokens are stamped with.
func (w *Webhook) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// Handle signs a fresh token for ev and POSTs it.
func (w *Webhook) Handle(ctx context.Context, ev *hook.Event) (hook.Result, error) {
	tok, err := w.Token(ev, w.now())
	if err != nil {
		return hook.Result{}, hook.Permanent(fmt.Errorf("sign: %w", err))
	}
	// {"jwt":"…"}: a token is base64url and dots, which JSON does not
	// escape, so this is what json.Marshal would write, without reflection.
	body := make([]byte, 0, len(tok)+10)
	body = append(append(append(body, `{"jwt":"`...), tok...), `"}`...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return hook.Result{}, hook.Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Event-Id", ev.ID)
	return outbound.Classify(w.client.Do(ctx, req))
}
