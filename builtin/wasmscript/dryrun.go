package wasmscript

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/outbound"
	"github.com/hookrt/hookd/internal/store"
)

// Dry-run verdicts: what a delivery of the event would have become.
const (
	VerdictAcknowledged = "acknowledged"
	VerdictRetry        = "retry"
	VerdictFailed       = "failed"
)

// DryRun runs a candidate plugin (spec: a stored version or an upload,
// not activated) on each event of evs in order and says, per event, what
// it did: its answer judged exactly as [Script.Handle] judges it (the
// verdict, the XMLMSG commands it would send), its log lines, its host
// calls, its time in the guest and its memory. It is the domain owner's
// test before activating a version (issue 17).
//
//	res, err := host.DryRun(ctx, spec, evs, req.Stubs, req.LiveHTTP)
//
// # Notes
//
//   - Nothing is delivered or stored: the commands are returned, not
//     sent; the plugin's state (state = true) is an empty store in memory,
//     dropped at the end; its logs are not kept with the domain's
//     ([Host.Logs]) and its calls are not counted.
//   - Its HTTP requests pass the candidate's own allow-list and limits,
//     then are answered by the first stub whose method ("" any) and URL
//     match (a URL ending in "*" matches by prefix); a request no stub
//     answers is denied (ERR_DENIED, the call's log says why) unless live
//     is set, when it is really made. Each http_request host call's Detail
//     says which it was.
//   - The candidate is loaded exactly as [Host.Load] loads a plugin, with
//     one instance, in a throw-away plugin that is never reloaded nor
//     listed, and closed before DryRun returns. An upload's bytes are
//     written to a temporary file, removed then too.
//   - A candidate that cannot be loaded, or stubs that are not valid, are
//     refused with an error matching [hook.ErrInvalid]. A failed event is
//     a result (verdict "retry" or "failed", with Error), not an error.
//   - Calls run one at a time, each within the candidate's timeout; ctx
//     ends the run, returning the results so far with its error.
func (h *Host) DryRun(ctx context.Context, spec Spec, evs []*hook.Event, stubs []hook.HTTPStub, live bool) ([]hook.DryRunResult, error) {
	rep, err := h.DryRunReport(ctx, spec, DryRunInput{Events: evs, Stubs: stubs, Live: live})
	return rep.Results, err
}

// DryRunInput is what a dry run runs a candidate on.
type DryRunInput struct {
	Events []*hook.Event
	// Signups are asked of hookd_v1_on_signup after the events.
	Signups []hook.DryRunSignup
	Stubs   []hook.HTTPStub
	Live    bool // make the HTTP calls no stub answers
}

// DryRunReport is [Host.DryRun] on events and then sign-ups (in.Signups,
// each asked of the candidate's hookd_v1_on_signup as a sign-up to the
// domain would be, with the same in-memory state as the events): the
// report says per event what DryRun says, and per sign-up the decision
// (hook.DryRunAllow, …), its logs, host calls, time and memory. Nothing
// is counted, logged with the domain's lines or stored.
func (h *Host) DryRunReport(ctx context.Context, spec Spec, in DryRunInput) (hook.DryRunReport, error) {
	rep := hook.DryRunReport{Results: []hook.DryRunResult{}}
	st, err := newStubber(in.Stubs, in.Live, spec.Settings.Effective().HTTPMaxResponse)
	if err != nil {
		return rep, err
	}
	if err := spec.Settings.Validate(); err != nil {
		return rep, fmt.Errorf("%w: plugin: %w", hook.ErrInvalid, err)
	}
	o := loadOptions{count: NopCounters{}, intercept: st.intercept}
	if spec.Module != nil {
		dir, err := os.MkdirTemp("", "hookd-dryrun-")
		if err != nil {
			return rep, fmt.Errorf("dry run: %w", err)
		}
		defer os.RemoveAll(dir)
		o.moduleDir = dir
	}
	spec.Settings = spec.Settings.WithState(store.NewMemoryState(), spec.Domain)
	spec.Settings.Instances = 1 // one call at a time
	s, err := h.load(ctx, spec, o)
	if err != nil {
		if ctx.Err() != nil {
			return rep, err
		}
		return rep, fmt.Errorf("%w: %w", hook.ErrInvalid, err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = s.close(cctx)
	}()
	rep.Results = make([]hook.DryRunResult, 0, len(in.Events))
	for _, ev := range in.Events {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rep.Results = append(rep.Results, s.dryCall(ctx, ev, st))
	}
	for _, su := range in.Signups {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rep.Signups = append(rep.Signups, s.drySignup(ctx, su, st))
	}
	return rep, nil
}

// dryCall runs one event of a dry run and reports it.
func (s *Script) dryCall(ctx context.Context, ev *hook.Event, st *stubber) hook.DryRunResult {
	st.reset()
	out, stats, callErr := s.p.CallMeasured(ctx, ev)
	res, _, err := s.judge(out, callErr)
	r := hook.DryRunResult{
		EventID:  ev.ID,
		Fields:   ev.Fields,
		Verdict:  VerdictAcknowledged,
		Status:   uint32(out.Status),
		Reply:    string(out.Reply),
		Duration: out.Duration,
		Memory:   stats.Memory,
	}
	switch {
	case err == nil:
	case hook.IsPermanent(err):
		r.Verdict, r.Error = VerdictFailed, err.Error()
	default:
		r.Verdict, r.Error = VerdictRetry, err.Error()
	}
	if len(res.Commands) > 0 {
		r.Commands = []string{string(res.Commands)}
	}
	r.Logs, r.HostCalls = dryLogs(out.Logs), dryHostCalls(out.HostCalls, st)
	return r
}

// dryLogs are a call's log lines as a dry run shows them.
func dryLogs(lines []hostapi.LogLine) []string {
	var out []string
	for _, l := range lines {
		out = append(out, hostapi.LevelName(l.Level)+" "+logText(l))
	}
	return out
}

// dryHostCalls are a call's host calls as a dry run shows them, each
// HTTP request with what answered it (st).
func dryHostCalls(calls []hostapi.HostCall, st *stubber) []hook.DryRunHostCall {
	var out []hook.DryRunHostCall
	details := st.taken()
	for i, hc := range calls {
		result := "OK"
		if hc.Status < 0 {
			result = hostapi.StatusName(hc.Status)
		}
		out = append(out, hook.DryRunHostCall{Function: hc.Name, Result: result, Detail: details[i]})
	}
	return out
}

// logText is a log line as the domain's owner reads it: the source in
// brackets unless it is the log function.
func logText(l hostapi.LogLine) string {
	if l.Source != "" && l.Source != "log" {
		return "[" + l.Source + "] " + l.Text
	}
	return l.Text
}

// stubber answers a dry run's HTTP requests (hostfn.HTTPOptions.Intercept)
// and notes, per host call of the current plugin call, what it did.
type stubber struct {
	stubs   []stub
	live    bool
	maxBody int64

	mu       sync.Mutex
	details  map[int]string // by index of the http_request host call
	redirect int            // index of the last answer if it was a redirect, else -1
}

type stub struct {
	hook.HTTPStub
	prefix bool // URL ended in "*": matches by prefix
	header http.Header
}

// newStubber checks stubs, refusing one that is not valid with an error
// naming it and saying what is allowed.
func newStubber(stubs []hook.HTTPStub, live bool, maxBody int64) (*stubber, error) {
	st := &stubber{live: live, maxBody: maxBody, redirect: -1}
	for i, s := range stubs {
		at := fmt.Sprintf("stubs[%d]", i)
		x := stub{HTTPStub: s}
		x.URL, x.prefix = strings.CutSuffix(s.URL, "*")
		u, err := url.Parse(x.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, hook.Invalid("%s.url: must be an absolute http:// or https:// URL (ending in * to match by prefix), got %q", at, s.URL)
		}
		if s.Method != "" && strings.ContainsAny(s.Method, " \t\r\n/:") {
			return nil, hook.Invalid("%s.method: must be an HTTP method such as GET or POST (or empty for any), got %q", at, s.Method)
		}
		switch {
		case x.Status == 0:
			x.Status = http.StatusOK
		case x.Status < 100 || x.Status > 599:
			return nil, hook.Invalid("%s.status: must be an HTTP status between 100 and 599 (0: 200), got %d", at, s.Status)
		}
		x.header = make(http.Header, len(s.Headers))
		for k, v := range s.Headers {
			if k == "" || strings.ContainsAny(k+v, "\r\n\x00") {
				return nil, hook.Invalid("%s.headers: %q is not a valid header", at, k)
			}
			x.header.Set(k, v)
		}
		st.stubs = append(st.stubs, x)
	}
	return st, nil
}

func (st *stubber) reset() {
	st.mu.Lock()
	st.details, st.redirect = map[int]string{}, -1
	st.mu.Unlock()
}

func (st *stubber) taken() map[int]string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.details
}

// intercept answers req with the first stub that matches it; otherwise it
// lets it go out when live, or denies it.
func (st *stubber) intercept(req *http.Request) (*outbound.Response, error) {
	target := req.Method + " " + req.URL.Redacted()
	for i, s := range st.stubs {
		if !s.matches(req) {
			continue
		}
		body := []byte(s.Body)
		res := &outbound.Response{Status: s.Status, Header: s.header.Clone(), Body: body}
		if int64(len(body)) > st.maxBody {
			res.Body, res.Truncated = body[:st.maxBody], true
		}
		st.note(req, fmt.Sprintf("%s: stubs[%d] answered %d", target, i, s.Status), res.Status >= 300 && res.Status < 400 && res.Header.Get("Location") != "")
		return res, nil
	}
	if st.live {
		st.note(req, target+": really made (live_http)", false)
		return nil, nil
	}
	st.note(req, target+": no stub matches; denied (live_http is off)", false)
	return nil, fmt.Errorf("%w: dry run: no stub answers %s, and live_http is off", hostfn.ErrRequestDenied, target)
}

// note records what happened to a request under the http_request host
// call it belongs to; the hops of a redirect join the same one.
func (st *stubber) note(req *http.Request, detail string, redirect bool) {
	c := hostfn.CallFrom(req.Context())
	if c == nil {
		return
	}
	i := len(c.HostCalls()) // the index this http_request will be recorded at
	st.mu.Lock()
	defer st.mu.Unlock()
	if prev, ok := st.details[i]; ok && st.redirect == i {
		detail = prev + "; then " + detail
	}
	st.details[i] = detail
	st.redirect = -1
	if redirect {
		st.redirect = i
	}
}

func (s *stub) matches(req *http.Request) bool {
	if s.Method != "" && !strings.EqualFold(s.Method, req.Method) {
		return false
	}
	u := req.URL.String()
	if s.prefix {
		return strings.HasPrefix(u, s.URL)
	}
	return u == s.URL
}
