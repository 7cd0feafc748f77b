// Command signup-guard is a hookd plugin that decides its domain's
// sign-ups while the user waits: only addresses at the e-mail domains of
// an allow-list may sign up, and at most a number of them in all. It
// counts the sign-ups it allowed in hookd's plugin state (state = true),
// shared by every instance and every hookd node. Its events are left
// alone (<nomessage/>). See README.md.
package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/hookrt/hookd/plugins/pdk"
)

// config is the plugin's config table.
type config struct {
	// Allow lists the e-mail domains whose addresses may sign up
	// ("example.com" also admits "sub.example.com"). Required.
	Allow []string `json:"allow"`
	// Max bounds the sign-ups allowed in all; 0 (the default) is no bound.
	Max int64 `json:"max"`
	// Message is the reason shown to a refused user. Defaults to
	// defaultMessage.
	Message string `json:"message"`
}

const defaultMessage = "Sign-ups to this domain are open to addresses at "

// CounterKey is the state key of the count of sign-ups allowed.
const CounterKey = "signup-guard/allowed"

// guard is the parsed config.
type guard struct {
	allow   []string // lowercase, without a leading "@" or "."
	max     int64
	message string
}

// The config is parsed on first use and kept for the life of the
// instance; the count lives in the host's state, not here.
var (
	loaded   *guard
	loadErr  error
	loadDone bool
)

func init() {
	pdk.Handle(func(*pdk.Event) pdk.Reply { return pdk.NoMessage() })
	pdk.HandleSignup(decide)
}

func main() {}

// decide allows a sign-up whose e-mail domain is on the list while the
// count is under the bound, and counts it.
func decide(s *pdk.Signup) pdk.Decision {
	g, err := load()
	if err != nil {
		return pdk.CannotDecide(err)
	}
	email := strings.ToLower(strings.TrimSpace(s.Email()))
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || !g.allows(email[at+1:]) {
		pdk.Log(pdk.LevelInfo, "signup-guard: refused "+strconv.Quote(s.Username())+": e-mail domain not on the allow-list")
		return pdk.Refuse(g.message)
	}
	n, err := pdk.IncrState(CounterKey, 1, 0)
	switch {
	case errors.Is(err, pdk.ErrDenied):
		return pdk.CannotDecide(errors.New("signup-guard: the plugin has no state: set state = true in its [domain.plugin]"))
	case err != nil:
		return pdk.CannotDecide(errors.New("signup-guard: cannot count the sign-up: " + err.Error()))
	case g.max > 0 && n > g.max:
		// Give the increment back, so that the count stays the number of
		// sign-ups allowed.
		if _, err := pdk.IncrState(CounterKey, -1, 0); err != nil {
			pdk.Log(pdk.LevelWarn, "signup-guard: count not corrected: "+err.Error())
		}
		return pdk.Refuse("This domain takes no more sign-ups (its limit is " + strconv.FormatInt(g.max, 10) + ").")
	}
	pdk.Log(pdk.LevelInfo, "signup-guard: allowed "+strconv.Quote(s.Username())+", sign-up "+strconv.FormatInt(n, 10))
	return pdk.Allow()
}

// allows reports whether domain is on the list, or under one of its
// domains.
func (g *guard) allows(domain string) bool {
	for _, d := range g.allow {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	return false
}

// load parses the config once.
func load() (*guard, error) {
	if !loadDone {
		loaded, loadErr = parseConfig()
		loadDone = true
	}
	return loaded, loadErr
}

func parseConfig() (*guard, error) {
	var c config
	if err := pdk.Config(&c); err != nil {
		return nil, errors.New("signup-guard: invalid config: " + err.Error())
	}
	var problems []string
	g := &guard{max: c.Max, message: c.Message}
	for i, d := range c.Allow {
		d = strings.ToLower(strings.TrimLeft(strings.TrimSpace(d), "@."))
		if d == "" || strings.ContainsAny(d, "@ /") {
			problems = append(problems, "allow["+strconv.Itoa(i)+"] "+strconv.Quote(c.Allow[i])+` is not an e-mail domain like "example.com"`)
			continue
		}
		g.allow = append(g.allow, d)
	}
	if len(c.Allow) == 0 {
		problems = append(problems, `"allow" (the e-mail domains that may sign up) is missing`)
	}
	if c.Max < 0 {
		problems = append(problems, `"max" (sign-ups allowed in all, 0 for no bound) must not be negative, got `+strconv.FormatInt(c.Max, 10))
	}
	if len(problems) > 0 {
		return nil, errors.New("signup-guard: invalid config: " + strings.Join(problems, "; "))
	}
	if g.message == "" {
		g.message = defaultMessage + strings.Join(g.allow, ", ") + " only."
	}
	return g, nil
}
