// Command rate-limit is a hookd plugin that drops a domain's sessions
// beyond a number per time window, with a message to the client. It
// counts in hookd's plugin state (state = true), so the count is shared by
// every instance and every hookd node, and survives restarts. See
// README.md.
package main

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookrt/hookd/plugins/pdk"
)

// config is the plugin's config table.
type config struct {
	// Limit is how many counted events a window lets through; the next
	// ones are dropped. Required, at least 1.
	Limit int `json:"limit"`
	// Window is how long a window lasts, from the first event it counts:
	// a Go duration from "1s" to "720h". Defaults to "1m".
	Window string `json:"window"`
	// Events are the EVENT names counted (and dropped over the limit).
	// Defaults to ["NEWSESSION"].
	Events []string `json:"events"`
	// Secret is the proxy's XMLMSG database secret. Required.
	Secret string `json:"secret"`
	// Message is shown to the client of a dropped session. Defaults to
	// defaultMessage; "-" shows none.
	Message string `json:"message"`
}

const defaultMessage = "Too many sessions are starting on this domain right now. Please try again in a minute."

// counterKey is the state key of the current window's count. It is
// created by the first event of a window, with the window as its TTL, and
// expires with it: the next event opens a new window.
const counterKey = "rate-limit/events"

// limiter is the parsed config.
type limiter struct {
	limit   int64
	window  time.Duration
	events  []string
	secret  string
	message string
}

// The config is parsed on the first event and kept for the life of the
// instance; the count lives in the host's state, not here.
var (
	loaded   *limiter
	loadErr  error
	loadDone bool
)

func init() { pdk.Handle(handle) }

func main() {}

func handle(ev *pdk.Event) pdk.Reply {
	l, err := load()
	if err != nil {
		return pdk.FailPermanently(err)
	}
	if !slices.Contains(l.events, ev.Name()) {
		return pdk.NoMessage()
	}
	n, err := pdk.IncrState(counterKey, 1, l.window)
	switch {
	case errors.Is(err, pdk.ErrDenied):
		return pdk.FailPermanently(errors.New("rate-limit: the plugin has no state: set state = true in its [domain.plugin]"))
	case err != nil:
		// A limiter that cannot count lets events through rather than
		// refusing every session of the domain.
		pdk.Log(pdk.LevelWarn, "rate-limit: not counted, let through: "+err.Error())
		return pdk.NoMessage()
	case n <= l.limit:
		return pdk.NoMessage()
	}
	why := "event " + strconv.FormatInt(n, 10) + " of the window, over the limit of " +
		strconv.FormatInt(l.limit, 10) + " per " + l.window.String()
	session := ev.Get("SESSIONID")
	if session == "" {
		pdk.Log(pdk.LevelWarn, "rate-limit: "+why+", but the event has no SESSIONID to drop")
		return pdk.NoMessage()
	}
	pdk.Log(pdk.LevelInfo, "rate-limit: dropping session "+session+": "+why)
	if l.message == "" {
		return pdk.Commands(l.secret, pdk.Drop(session))
	}
	return pdk.Commands(l.secret, pdk.MessageBox(session, l.message), pdk.Drop(session))
}

// load parses the config once.
func load() (*limiter, error) {
	if !loadDone {
		loaded, loadErr = parseConfig()
		loadDone = true
	}
	return loaded, loadErr
}

func parseConfig() (*limiter, error) {
	c := config{Window: "1m", Events: []string{"NEWSESSION"}, Message: defaultMessage}
	if err := pdk.Config(&c); err != nil {
		return nil, errors.New("rate-limit: invalid config: " + err.Error())
	}
	var problems []string
	if c.Limit < 1 {
		problems = append(problems, `"limit" (events let through per window) must be at least 1, got `+strconv.Itoa(c.Limit))
	}
	window, err := time.ParseDuration(c.Window)
	if err != nil || window < time.Second || window > pdk.MaxStateTTL {
		problems = append(problems, `"window" must be a duration from "1s" to "720h", got `+strconv.Quote(c.Window))
	}
	if len(c.Events) == 0 {
		problems = append(problems, `"events" must name at least one EVENT`)
	}
	if strings.TrimSpace(c.Secret) == "" {
		problems = append(problems, `"secret" (the proxy's XMLMSG database secret) is missing`)
	}
	if len(problems) > 0 {
		return nil, errors.New("rate-limit: invalid config: " + strings.Join(problems, "; "))
	}
	l := &limiter{limit: int64(c.Limit), window: window, secret: c.Secret, message: c.Message}
	if c.Message == "-" {
		l.message = ""
	}
	for _, e := range c.Events {
		if e == "NEW SESSION" {
			e = "NEWSESSION" // as Event.Name spells it
		}
		l.events = append(l.events, e)
	}
	return l, nil
}
