package hostfn

import (
	"context"
	"log/slog"
	"maps"
	"time"
	"unicode/utf8"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
)

// Call is the state of one call of a plugin: what the host functions read
// (the event, the deadline, the plugin's [Grants]) and what they record (the
// reply, the error message, logs, the result buffer, counters and a record of
// the host calls made).
//
//	call := hostfn.NewCall(ev, deadline, maxReply, grants)
//	status, err := entry.Call(hostfn.WithCall(ctx, call))
//	reply, set := call.Reply()
//
// # Notes
//
//   - A Call serves one guest call on one goroutine, as a wazero instance
//     does: it is not safe for concurrent use, and needs none.
//   - The slices it returns are its own; read them after the guest call
//     has returned.
type Call struct {
	fields   map[string]string
	eventID  string
	form     []byte // form encoding of fields, made on first use
	formDone bool
	deadline time.Time
	grants   *Grants
	maxReply int

	reply         []byte
	replySet      bool
	replyRefused  int // size of the largest reply refused as too large
	errMsg        string
	logs          []hostapi.LogLine
	result        []byte
	hasResult     bool
	httpRequests  int
	counters      Counters
	hostCalls     []hostapi.HostCall
	guestLogLines int
	hostLogLines  int
}

// Counters count what a call did.
type Counters struct {
	HostCalls         int // host function calls, all of them
	HostCallsDropped  int // calls not recorded in HostCalls (past MaxHostCallRecords)
	LogLines          int // lines kept
	LogLinesDropped   int // lines refused (ErrLimit) or dropped (stdout/stderr past the limit)
	HTTPRequests      int // http_request calls that made a request
	Signatures        int // tokens signed by jwt_sign
	StateCalls        int // state_* calls that reached the store
	MemoryErrors      int // calls that returned ErrMemory
	RefusedReplyBytes int // size of the largest reply refused as too large, 0 if none
}

// NewCall returns the state of one call on ev (which may be nil: an empty
// event, as during hookd_v1_init), ending at deadline (zero: none), with
// replies of at most maxReply bytes (<= 0: [DefaultMaxReply]) and the
// capabilities of g (nil: none).
//
// # Notes
//
//   - ev is only read, and only while the call runs; its EVENT_ID is taken
//     from ev.ID when the fields lack it.
//   - The size of the event is the host's to check ([MaxEvent]).
func NewCall(ev *hook.Event, deadline time.Time, maxReply int, g *Grants) *Call {
	if maxReply <= 0 {
		maxReply = hostapi.DefaultMaxReply
	}
	c := &Call{deadline: deadline, grants: g, maxReply: maxReply}
	if ev != nil {
		c.fields = ev.Fields
		c.eventID = ev.Fields[hook.FieldEventID]
		if c.eventID == "" && ev.ID != "" {
			c.eventID = ev.ID
		}
	}
	return c
}

type callKey struct{}

// WithCall returns a context carrying c, for the guest call whose host
// functions c serves.
func WithCall(ctx context.Context, c *Call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

// CallFrom returns the Call carried by ctx, or nil.
func CallFrom(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}

// Reply returns the reply set by the guest and whether one was set.
func (c *Call) Reply() ([]byte, bool) { return c.reply, c.replySet }

// ReplyRefused returns the size of the largest reply the guest tried to set
// beyond the limit, or 0. A host fails such a call whatever the guest
// returned: its answer was lost.
func (c *Call) ReplyRefused() int { return c.replyRefused }

// ErrorMessage returns the message set with error_set, or "".
func (c *Call) ErrorMessage() string { return c.errMsg }

// Logs returns the log lines of the call, in order.
func (c *Call) Logs() []hostapi.LogLine { return c.logs }

// HostCalls returns the first [MaxHostCallRecords] host calls made.
func (c *Call) HostCalls() []hostapi.HostCall { return c.hostCalls }

// Counters returns the call's counters.
func (c *Call) Counters() Counters {
	k := c.counters
	k.RefusedReplyBytes = c.replyRefused
	return k
}

// Deadline returns the call's deadline (zero: none).
func (c *Call) Deadline() time.Time { return c.deadline }

// AddLog appends a line to the call's log, cut at [MaxLogLine] bytes, and
// reports whether it was kept: a call keeps at most [MaxLogLines] lines from
// the guest (log, stdout, stderr), and as many again from the host ("host").
func (c *Call) AddLog(source string, level int32, text string) bool {
	n := &c.guestLogLines
	if source == "host" {
		n = &c.hostLogLines
	}
	if *n >= hostapi.MaxLogLines {
		c.counters.LogLinesDropped++
		return false
	}
	*n++
	c.logs = append(c.logs, hostapi.LogLine{Level: level, Source: source, Text: cut(text, hostapi.MaxLogLine)})
	c.counters.LogLines++
	return true
}

// hostLog records a line from a host function (why a request was denied,
// what failed).
func (c *Call) hostLog(level int32, text string) { c.AddLog("host", level, text) }

// record notes one host call.
func (c *Call) record(name string, status int64, start time.Time) {
	c.counters.HostCalls++
	if status == int64(hostapi.ErrMemory) {
		c.counters.MemoryErrors++
	}
	if len(c.hostCalls) >= hostapi.MaxHostCallRecords {
		c.counters.HostCallsDropped++
		return
	}
	c.hostCalls = append(c.hostCalls, hostapi.HostCall{Name: name, Status: status, Start: start, Duration: time.Since(start)})
}

// eventForm returns the event as application/x-www-form-urlencoded,
// sorted by name (hook.AppendForm), made once.
func (c *Call) eventForm() []byte {
	if c.formDone {
		return c.form
	}
	c.formDone = true
	fields := c.fields
	if c.eventID != "" && fields[hook.FieldEventID] == "" {
		fields = maps.Clone(fields)
		if fields == nil {
			fields = map[string]string{}
		}
		fields[hook.FieldEventID] = c.eventID
	}
	c.form = hook.AppendForm(nil, fields, "")
	return c.form
}

// field returns one field of the event.
func (c *Call) field(name []byte) (string, bool) {
	v, ok := c.fields[string(name)]
	if !ok && c.eventID != "" && string(name) == hook.FieldEventID {
		return c.eventID, true
	}
	return v, ok
}

// cut returns s cut to at most n bytes, without splitting a UTF-8 sequence.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for i := 0; i < utf8.UTFMax && len(s) > 0; i++ {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}

// SlogLevel maps an ABI log level to the slog level a host logs it at.
func SlogLevel(level int32) slog.Level {
	switch level {
	case hostapi.LevelDebug:
		return slog.LevelDebug
	case hostapi.LevelWarn:
		return slog.LevelWarn
	case hostapi.LevelError:
		return slog.LevelError
	}
	return slog.LevelInfo
}
