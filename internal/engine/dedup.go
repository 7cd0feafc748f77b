package engine

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// dedupInterval is how often a repeated identical warning or error is
// logged: River logs a failed poll on every poll (20 a second), which on
// a full disk buried everything else.
const dedupInterval = 10 * time.Second

// dedup is a slog.Handler that passes a warning or error through once per
// interval: the first occurrence at once, then, when the same message with
// the same attributes comes after the interval, once more with the number
// of repeats dropped meanwhile (attribute "repeated"). Lower levels pass.
type dedup struct {
	slog.Handler
	interval time.Duration
	seen     *dedupSeen
}

type dedupSeen struct {
	mu sync.Mutex
	m  map[string]*dedupEntry
}

type dedupEntry struct {
	last    time.Time
	dropped int
}

func newDedup(h slog.Handler, interval time.Duration) dedup {
	return dedup{Handler: h, interval: interval, seen: &dedupSeen{m: map[string]*dedupEntry{}}}
}

func (d dedup) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return d.Handler.Handle(ctx, r)
	}
	var key strings.Builder
	key.WriteString(r.Level.String() + "\x00" + r.Message)
	r.Attrs(func(a slog.Attr) bool {
		key.WriteString("\x00" + a.String())
		return true
	})
	d.seen.mu.Lock()
	e := d.seen.m[key.String()]
	now := r.Time
	if e != nil && now.Sub(e.last) < d.interval {
		e.dropped++
		d.seen.mu.Unlock()
		return nil
	}
	dropped := 0
	if e == nil {
		if len(d.seen.m) > 1000 { // bound the memory: forget everything
			clear(d.seen.m)
		}
		d.seen.m[key.String()] = &dedupEntry{last: now}
	} else {
		dropped, e.last, e.dropped = e.dropped, now, 0
	}
	d.seen.mu.Unlock()
	if dropped > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("repeated", dropped))
	}
	return d.Handler.Handle(ctx, r)
}

func (d dedup) WithAttrs(a []slog.Attr) slog.Handler {
	return dedup{Handler: d.Handler.WithAttrs(a), interval: d.interval, seen: d.seen}
}

func (d dedup) WithGroup(n string) slog.Handler {
	return dedup{Handler: d.Handler.WithGroup(n), interval: d.interval, seen: d.seen}
}
