package webui

import (
	"cmp"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookrt/hookd/hook"
)

// Cut shortens s to at most n bytes, on a character boundary, marking the
// cut with "…".
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// Funcs are the templates' helpers both pages use; a site may add its own
// ([Options.Funcs]).
var Funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"whenp": func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	},
	"iso": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	},
	"ago":    Ago,
	"dur":    Duration,
	"cut":    func(n int, s string) string { return Cut(s, n) },
	"fields": SortedFields,
	"calls":  CallSummary[int64],
	"counts": CallSummary[int],
	"short":  func(s string) string { return Cut(s, 12) },
	"tail":   Tail,
	"live":   func(st hook.DeliveryState) bool { return st.Live() },
	"bytes":  Bytes,
	"targetChoice": func(d ListData, any string) TargetChoice {
		return TargetChoice{Targets: d.Targets, Any: any, Chosen: d.Form.Target}
	},
}

// Tail shortens an id to its last 8 bytes: an EVENT_ID is a UUIDv7,
// whose leading bytes are a timestamp that events of the same minute
// share, while its end tells them apart.
func Tail(s string) string {
	if len(s) <= 12 {
		return s
	}
	return "…" + s[len(s)-8:]
}

// Ago says how long ago t was, roughly ("3m ago", "in 20s").
func Ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, ""
	}
	var s string
	switch {
	case d < time.Minute:
		s = fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		s = fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%dh", int(d/time.Hour))
	default:
		s = fmt.Sprintf("%dd", int(d/(24*time.Hour)))
	}
	if suffix == "" {
		return "in " + s
	}
	return s + suffix
}

// Duration prints a latency with three significant digits at most.
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(100 * time.Microsecond).String()
	default:
		return d.Round(10 * time.Millisecond).String()
	}
}

// Bytes prints a size in B, KiB or MiB.
func Bytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}

// Field is one event field, for a table.
type Field struct{ Name, Value string }

// SortedFields returns an event's fields by name.
func SortedFields(m map[string]string) []Field {
	out := make([]Field, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, Field{k, m[k]})
	}
	return out
}

// CallSummary prints a plugin's calls by outcome, ok first, then the
// other outcomes that happened ("ok 12 · trap 1").
func CallSummary[N int | int64](calls map[string]N) string {
	keys := slices.SortedFunc(maps.Keys(calls), func(a, b string) int {
		if (a == hook.PluginOK) != (b == hook.PluginOK) {
			if a == hook.PluginOK {
				return -1
			}
			return 1
		}
		return cmp.Compare(a, b)
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if calls[k] != 0 || k == hook.PluginOK {
			parts = append(parts, fmt.Sprintf("%s %d", k, calls[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " · ")
}

// Plural picks one or many by n.
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Message is an error's text for a page: without the sentinel words the
// runtime wraps its input refusals and conflicts in ("invalid: ",
// ": conflict"), which say nothing to the person reading, cut to 500
// bytes. ": not found" stays: it is the point of "target "x": not found".
func Message(err error) string {
	s := strings.ReplaceAll(err.Error(), hook.ErrInvalid.Error()+": ", "")
	s = strings.ReplaceAll(s, ": "+hook.ErrConflict.Error(), "")
	return Cut(s, 500)
}
