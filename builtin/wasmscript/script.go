package wasmscript

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/wasmhost"
	"github.com/hookrt/hookd/internal/xmlmsg"
)

// Script is a loaded plugin in the role of a domain's events script: a
// [hook.Handler] whose answer means what a script's reply means. Make one
// with [Host.Load].
type Script struct {
	spec  Spec
	name  string // what errors call it: its file, or "module sha256:…" (module.go)
	p     *wasmhost.Plugin
	http  *hostfn.HTTP
	log   *slog.Logger
	count Counters
	stats stats       // for the admin page (status.go)
	ring  *pluginLogs // the host's per-domain log lines; nil for a dry run
}

var (
	_ hook.Handler      = (*Script)(nil)
	_ hook.BatchHandler = (*Script)(nil)
)

// Path returns the file the plugin was loaded from.
func (s *Script) Path() string { return s.p.Path() }

// Name returns what the plugin's errors call it: its file, or, for a
// module loaded from bytes, "module sha256:" and the start of its hash.
func (s *Script) Name() string { return s.name }

// SHA256 returns the hex SHA-256 of the binary the plugin runs now.
func (s *Script) SHA256() string { return s.p.SHA256() }

// Call runs the plugin once on ev and returns what the call produced,
// unjudged: the developer loop's view (hookd plugin run). A non-nil error
// means the call failed (a trap, the deadline, a limit); the outcome still
// holds the logs and host calls made until then.
func (s *Script) Call(ctx context.Context, ev *hook.Event) (hostapi.Outcome, error) {
	return s.p.Call(ctx, ev)
}

// Handle runs the plugin on ev and judges its answer like a script's
// (xmlmsg.Judge, the one rule for both): status 0 with no reply or with
// well-formed XML acknowledges, an XMLMSG document in it going to the
// command sink whole; status 2 fails for good (hook.Permanent); any other
// status, a trap or a limit fails the attempt, to be retried; a reply
// that is not XML fails a strict script and is ignored by a lax one. The plugin's log lines are logged
// with the event's ID. Every call is counted by outcome (HostOptions.Counters
// and [Host.Plugins]).
//
// # Notes
//
//   - The result's Latency is the whole call, waiting for a CPU slot
//     included: what the attempt cost the delivery.
func (s *Script) Handle(ctx context.Context, ev *hook.Event) (hook.Result, error) {
	start := time.Now()
	ctx, span := s.startSpan(ctx, ev)
	out, err := s.p.Call(ctx, ev)
	s.forwardLogs(ctx, ev, out.Logs)
	res, outcome, err := s.judge(out, err)
	res.Latency = time.Since(start)
	s.tally(outcome, out.Duration)
	s.tallyHostCalls(out.HostCalls)
	endSpan(span, out, outcome, err)
	return res, err
}

// judge turns a call's outcome into the attempt's result and the
// outcome's name for the counters.
func (s *Script) judge(out hostapi.Outcome, err error) (hook.Result, string, error) {
	res := hook.Result{Reply: out.Reply}
	if err != nil {
		res.Summary = "plugin failed"
		return res, callOutcome(err), fmt.Errorf("plugin %s: %w", s.name, err)
	}
	switch out.Status {
	case hostapi.StatusHandled:
	case hostapi.StatusFail:
		res.Summary = "plugin failed for good"
		return res, hook.PluginRefused, hook.Permanent(fmt.Errorf("plugin %s failed for good: %s", s.name, orDefault(out.Error, "no message")))
	default:
		res.Summary = "plugin failed"
		return res, hook.PluginRefused, fmt.Errorf("plugin %s failed (status %d): %s", s.name, out.Status, orDefault(out.Error, "no message"))
	}
	if len(out.Reply) == 0 {
		res.Summary = "nomessage"
		return res, hook.PluginOK, nil
	}
	summary, commands, perr := xmlmsg.Judge(out.Reply, s.spec.Strict)
	if perr != nil {
		return res, hook.PluginRefused, fmt.Errorf("plugin %s replied but %w", s.name, perr)
	}
	res.Summary, res.Commands = summary, commands
	return res, hook.PluginOK, nil
}

// HandleBatch runs the plugin on each event in order; the batch fails at
// the first failure (and is retried whole, like a combined request). The
// XMLMSG documents of the calls are merged into one (xmlmsg.Merge), so
// that every command reaches the command sink, which takes one document
// per attempt.
func (s *Script) HandleBatch(ctx context.Context, evs []*hook.Event) (hook.Result, error) {
	var (
		last      hook.Result
		docs      [][]byte
		summaries []string
	)
	for _, ev := range evs {
		res, err := s.Handle(ctx, ev)
		if err != nil {
			return res, err
		}
		if len(res.Commands) > 0 {
			docs = append(docs, res.Commands)
			summaries = append(summaries, res.Summary)
		}
		last = res
	}
	if len(docs) == 0 {
		return last, nil
	}
	merged, err := xmlmsg.Merge(docs...)
	if err != nil {
		// Answers with different secrets cannot share one document:
		// forward the last and say what was not forwarded.
		s.log.Warn("combined plugin call produced XMLMSG documents that cannot be merged; forwarding the last",
			slog.String("domain", s.spec.Domain), slog.Int("documents", len(docs)), slog.String("error", err.Error()))
		last.Commands, last.Summary = docs[len(docs)-1], summaries[len(summaries)-1]+fmt.Sprintf("; %d earlier XMLMSG documents not forwarded: %v", len(docs)-1, err)
		return last, nil
	}
	last.Commands, last.Summary = merged, strings.Join(summaries, "; ")
	return last, nil
}

func (s *Script) forwardLogs(ctx context.Context, ev *hook.Event, lines []hostapi.LogLine) {
	if s.ring != nil {
		s.ring.add(s.spec.Domain, ev.ID, lines)
	}
	for _, l := range lines {
		s.log.Log(ctx, hostfn.SlogLevel(l.Level), l.Text, slog.String("domain", s.spec.Domain),
			slog.String("source", l.Source), slog.String("event_id", ev.ID))
	}
}

// close closes the plugin, then its HTTP capability.
func (s *Script) close(ctx context.Context) error {
	err := s.p.Close(ctx)
	if s.http != nil {
		s.http.Close()
	}
	return err
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
