package config

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
)

// Limits that validate enforces.
const (
	maxRetryStep    = 30 * 24 * time.Hour
	minTimeout      = 100 * time.Millisecond
	maxTimeout      = 5 * time.Minute
	maxWorkers      = 1000
	minPollInterval = 10 * time.Millisecond // hookd's floor; River's is 1ms
	maxPollInterval = 10 * time.Second
)

var (
	logLevels  = []string{"debug", "info", "warn", "error"}
	logFormats = []string{"text", "json"}
)

// validate checks the core sections, then every module that implements
// hook.Validator, and reports every problem it finds, joined. It does no
// I/O and does not change c, so it can run again on a loaded Config.
func (c *Config) validate() error {
	v := validator{file: c.file()}

	s := c.Server
	if host, port, err := net.SplitHostPort(s.Listen); err != nil || !isPort(port) {
		v.add("server.listen", "must be host:port with a numeric port, got %q", s.Listen)
	} else if s.TokenFile == "" && !isLoopbackHost(host) {
		v.add("server.token_file", "required when server.listen is not a loopback address (%s); the HTTP API needs a bearer token", s.Listen)
	}
	if s.ServerID == "" {
		v.add("server.server_id", "must not be empty")
	}

	if c.Storage.PrivateDir == "" {
		v.add("storage.private_dir", "must not be empty")
	}

	switch st := c.Store; st.Driver {
	case DriverSQLite:
		if st.Path == "" {
			v.add("store.path", "required when store.driver is %q", DriverSQLite)
		}
	case DriverPostgres:
		if st.DSN == "" {
			v.add("store.dsn", "required when store.driver is %q", DriverPostgres)
		}
	default:
		v.add("store.driver", "must be %q or %q, got %q", DriverSQLite, DriverPostgres, st.Driver)
	}

	d := c.Delivery
	if len(d.RetrySchedule) == 0 {
		v.add("delivery.retry_schedule", "must not be empty")
	}
	for i, step := range d.RetrySchedule {
		if step <= 0 || time.Duration(step) > maxRetryStep {
			v.add(fmt.Sprintf("delivery.retry_schedule[%d]", i), "must be more than 0s and at most %s (30 days), got %s", Duration(maxRetryStep), step)
		}
	}
	if !(d.Jitter >= 0 && d.Jitter < 1) { // also rejects nan
		v.add("delivery.jitter", "must be at least 0 and less than 1, got %v", d.Jitter)
	}
	if t := time.Duration(d.Timeout); t < minTimeout || t > maxTimeout {
		v.add("delivery.timeout", "must be between %s and %s, got %s", Duration(minTimeout), Duration(maxTimeout), d.Timeout)
	}
	if d.MaxAge < d.Timeout {
		v.add("delivery.max_age", "must be at least delivery.timeout (%s), got %s", d.Timeout, d.MaxAge)
	}
	if d.Workers < 1 || d.Workers > maxWorkers {
		v.add("delivery.workers", "must be between 1 and %d, got %d", maxWorkers, d.Workers)
	}
	if d.RetryAfterCap <= 0 {
		v.add("delivery.retry_after_cap", "must be more than 0s, got %s", d.RetryAfterCap)
	}
	if d.BreakerThreshold < 1 {
		v.add("delivery.breaker_threshold", "must be at least 1, got %d", d.BreakerThreshold)
	}
	if d.BreakerCooldown <= 0 {
		v.add("delivery.breaker_cooldown", "must be more than 0s, got %s", d.BreakerCooldown)
	}
	if p := time.Duration(d.PollInterval); p < minPollInterval || p > maxPollInterval {
		v.add("delivery.poll_interval", "must be between %s and %s, got %s", Duration(minPollInterval), Duration(maxPollInterval), d.PollInterval)
	}

	if !slices.Contains(logLevels, c.Log.Level) {
		v.add("log.level", "must be one of %s; got %q", strings.Join(logLevels, ", "), c.Log.Level)
	}
	if !slices.Contains(logFormats, c.Log.Format) {
		v.add("log.format", "must be %q or %q, got %q", logFormats[0], logFormats[1], c.Log.Format)
	}

	ids := make([]string, 0, len(c.Modules))
	for id := range c.Modules {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if mv, ok := c.Modules[id].(hook.Validator); ok {
			v.module(id, mv.Validate())
		}
	}
	return joinErrors(v.file, v.errs)
}

// isPort reports whether s is a port number, 0 to 65535.
func isPort(s string) bool {
	_, err := strconv.ParseUint(s, 10, 16)
	return err == nil
}

// validator collects validation errors.
type validator struct {
	file string
	errs []error
}

func (v *validator) add(key, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Err: &keyError{key: key, msg: fmt.Sprintf(format, args...)}})
}

// module adds a module's Validate error, one *Error per joined error, each
// prefixed with "[id]".
func (v *validator) module(id string, err error) {
	for _, e := range splitJoined(err) {
		v.errs = append(v.errs, &Error{File: v.file, Err: &keyError{key: "[" + id + "]", msg: e.Error(), err: e}})
	}
}

// splitJoined undoes errors.Join (recognized by its one-per-line message),
// so that every line of a module's error gets the file and section prefix.
func splitJoined(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var parts []string
	var out []error
	for _, e := range j.Unwrap() {
		if e == nil {
			continue
		}
		parts = append(parts, e.Error())
		out = append(out, splitJoined(e)...)
	}
	if strings.Join(parts, "\n") != err.Error() { // e.g. fmt.Errorf with two %w
		return []error{err}
	}
	return out
}
