// Command jwt-relay is a hookd plugin that forwards every event, as a JWT
// signed with a key the host holds, to an HTTPS endpoint. See README.md.
package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookrt/hookd/plugins/pdk"
)

// config is the plugin's config table.
type config struct {
	// Key names the signing key, as granted in the plugin's keys.
	Key string `json:"key"`
	// URL receives the POST; its origin must be in http_allow.
	URL string `json:"url"`
	// Issuer is the token's iss claim.
	Issuer string `json:"issuer"`
}

// minTime is the least time left in the call for the relay to start: less
// than that and the request would only time out.
const minTime = 10 * time.Millisecond

var (
	cfg     config
	cfgErr  error
	cfgDone bool
)

func init() { pdk.Handle(handle) }

func main() {}

func handle(ev *pdk.Event) pdk.Reply {
	c, err := load()
	if err != nil {
		return pdk.FailPermanently(err)
	}
	if left := pdk.Deadline(); left < minTime {
		return pdk.Fail(fmt.Errorf("jwt-relay: only %s left in the call; not starting the request", left))
	}
	claims := map[string]any{
		"iss":       c.Issuer,
		"event":     ev.Name(),
		"domain_id": ev.Get("DOMAIN_ID"),
		"data":      ev.Fields(),
	}
	if id := ev.Get("SESSIONID"); id != "" {
		claims["session_id"] = id
	}
	token, err := pdk.SignJWT(c.Key, claims)
	if err != nil {
		return failure("signing with key "+c.Key, err)
	}
	// A compact JWT is base64url parts and dots: nothing to escape in JSON.
	body := `{"jwt":"` + token + `"}`
	res, err := pdk.Fetch(pdk.Request{
		Method: "POST",
		URL:    c.URL,
		Header: map[string]string{"Content-Type": "application/json"},
		Body:   body,
	})
	if err != nil {
		return failure("POST "+c.URL, err)
	}
	if res.Status < 200 || res.Status > 299 {
		return pdk.Fail(fmt.Errorf("jwt-relay: POST %s: HTTP %d: %s", c.URL, res.Status, excerpt(res.Body)))
	}
	return pdk.NoMessage()
}

// failure fails for good on what no retry can fix (a key or URL the plugin
// is not allowed, a request the host refuses, an event too large to
// relay), and for now otherwise (timeouts, transport errors).
func failure(what string, err error) pdk.Reply {
	err = fmt.Errorf("jwt-relay: %s: %w", what, err)
	if errors.Is(err, pdk.ErrDenied) || errors.Is(err, pdk.ErrBadArgument) || errors.Is(err, pdk.ErrTooLarge) {
		return pdk.FailPermanently(err)
	}
	return pdk.Fail(err)
}

func load() (config, error) {
	if !cfgDone {
		cfg, cfgErr = parseConfig()
		cfgDone = true
	}
	return cfg, cfgErr
}

func parseConfig() (config, error) {
	var c config
	if err := pdk.Config(&c); err != nil {
		return c, fmt.Errorf("jwt-relay: invalid config: %w", err)
	}
	var missing []string
	for _, f := range []struct{ name, value string }{{"key", c.Key}, {"url", c.URL}, {"issuer", c.Issuer}} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, `"`+f.name+`"`)
		}
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("jwt-relay: invalid config: %s missing", strings.Join(missing, ", "))
	}
	if !strings.HasPrefix(c.URL, "https://") && !strings.HasPrefix(c.URL, "http://") {
		return c, fmt.Errorf("jwt-relay: invalid config: url %q is not an http(s) URL", c.URL)
	}
	return c, nil
}

// excerpt is the start of a response body, for the failure message.
func excerpt(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
