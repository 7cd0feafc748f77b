package wasmscript

import (
	"slices"
	"sync"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
)

// DefaultLogLines is how many lines a host keeps per domain: enough for a
// domain owner to see the last few dozen events of a chatty plugin, and
// at most a few hundred KiB per domain (a line is at most
// hostapi.MaxLogLine bytes).
const DefaultLogLines = 200

// pluginLogs keeps, per domain, the last lines its plugin wrote while
// handling events, with the event's id: the domain owner's view of their
// plugin's logs (issue 17), which the runtime flushes to the store and
// merges across nodes. The process log gets every line as well; this ring
// is bounded so that a chatty plugin costs fixed memory.
type pluginLogs struct {
	mu       sync.Mutex
	max      int
	seq      uint64 // lines added, ever: a flusher compares it to skip idle rounds
	byDomain map[string]*logRing
}

// logRing is one domain's last lines, oldest overwritten first.
type logRing struct {
	lines []hook.PluginLogLine // len ≤ max; next is the oldest once full
	next  int
}

func newPluginLogs(max int) *pluginLogs {
	return &pluginLogs{max: max, byDomain: map[string]*logRing{}}
}

// add keeps the lines of one call of domain's plugin on the event eventID.
func (l *pluginLogs) add(domain, eventID string, lines []hostapi.LogLine) {
	if len(lines) == 0 {
		return
	}
	at := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.byDomain[domain]
	if r == nil {
		r = &logRing{}
		l.byDomain[domain] = r
	}
	for _, line := range lines {
		text := line.Text
		if line.Source != "" && line.Source != "log" {
			text = "[" + line.Source + "] " + text
		}
		ll := hook.PluginLogLine{At: at, Domain: domain, EventID: eventID, Level: hostapi.LevelName(line.Level), Line: text}
		if len(r.lines) < l.max {
			r.lines = append(r.lines, ll)
		} else {
			r.lines[r.next] = ll
			r.next = (r.next + 1) % l.max
		}
		l.seq++
	}
}

// get returns domain's kept lines, oldest first.
func (l *pluginLogs) get(domain string) []hook.PluginLogLine {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.byDomain[domain]
	if r == nil {
		return nil
	}
	return slices.Concat(r.lines[r.next:], r.lines[:r.next])
}

// Logs returns the last lines (at most [DefaultLogLines]) domain's plugin
// wrote on this node while handling events, oldest first, each with the
// event's id; Node is left empty for the runtime to fill. Dry runs
// ([Host.DryRun]) do not add to them. The lines of a plugin that is
// replaced (a new version activated) stay: they are the domain's.
func (h *Host) Logs(domain string) []hook.PluginLogLine { return h.logs.get(domain) }

// LogDomains returns the domains that have kept lines, sorted, and how
// many lines were added ever: a flusher that saw the same count last
// time has nothing new to write.
func (h *Host) LogDomains() ([]string, uint64) {
	h.logs.mu.Lock()
	defer h.logs.mu.Unlock()
	ds := make([]string, 0, len(h.logs.byDomain))
	for d := range h.logs.byDomain {
		ds = append(ds, d)
	}
	slices.Sort(ds)
	return ds, h.logs.seq
}
