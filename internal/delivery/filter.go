package delivery

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hookrt/hookd/hook"
)

// Bounds of a filter. A filter that needs more is a plugin's job.
const (
	MaxFilterEvents = 256
	MaxWhereFields  = 64
	MaxWhereValues  = 256
	maxEventName    = 128
)

// Filter compiles s's filter into the predicate the engine ANDs with the
// target's Match; nil (and no error) when s has no filter, so that the
// common case costs nothing.
//
//	keep, err := delivery.Filter(t.Delivery)
//	if keep != nil && !keep(ev) { /* no delivery */ }
//
// # Notes
//
//   - events: "NEWSESSION" matches [hook.Event.Name] (canonical spelling:
//     "NEW SESSION" is NEWSESSION, on both sides); "MODULE.*" matches every
//     event of a module, "MODULE.EVENT" one event of one module. An event
//     matches when any entry matches.
//   - where: every condition holds; a field's value must be one of the
//     listed values and none of the "!" ones. A missing field is "", so
//     `where = { X = "!" }` asks for X present and not empty.
//   - The error is [Validate]'s, for the filter's keys only.
//   - The predicate is safe for concurrent use and does not allocate.
func Filter(s *hook.DeliverySettings) (func(*hook.Event) bool, error) {
	if s == nil || s.Filter.IsZero() {
		return nil, nil
	}
	var p problems
	checkFilter(&p, s.Filter)
	if err := p.err(); err != nil {
		return nil, err
	}
	f := compileFilter(s.Filter)
	return f.match, nil
}

// compiled is a filter ready to match.
type compiled struct {
	any     bool                // no events list: every name passes
	names   map[string]struct{} // "NEWSESSION"
	modules map[string]struct{} // "ISL_LIGHT" of "ISL_LIGHT.*"
	pairs   map[[2]string]struct{}
	where   []condition
}

// condition is one field's test: in (when not empty) and not out.
type condition struct {
	field   string
	in, out map[string]struct{}
}

func compileFilter(f hook.EventFilter) *compiled {
	c := &compiled{any: len(f.Events) == 0}
	for _, e := range f.Events {
		mod, ev, dotted := strings.Cut(e, ".")
		switch {
		case !dotted:
			setAdd(&c.names, hook.CanonicalEventName(e))
		case ev == "*":
			setAdd(&c.modules, mod)
		default:
			if c.pairs == nil {
				c.pairs = make(map[[2]string]struct{})
			}
			c.pairs[[2]string{mod, hook.CanonicalEventName(ev)}] = struct{}{}
		}
	}
	for _, field := range slices.Sorted(maps.Keys(f.Where)) {
		cond := condition{field: field}
		for _, v := range f.Where[field] {
			if x, ok := strings.CutPrefix(v, "!"); ok {
				setAdd(&cond.out, x)
			} else {
				setAdd(&cond.in, v)
			}
		}
		c.where = append(c.where, cond)
	}
	return c
}

func setAdd(m *map[string]struct{}, k string) {
	if *m == nil {
		*m = make(map[string]struct{})
	}
	(*m)[k] = struct{}{}
}

func (c *compiled) match(ev *hook.Event) bool {
	if !c.any && !c.matchName(ev) {
		return false
	}
	for _, cond := range c.where {
		v := ev.Get(cond.field)
		if _, no := cond.out[v]; no {
			return false
		}
		if cond.in != nil {
			if _, yes := cond.in[v]; !yes {
				return false
			}
		}
	}
	return true
}

func (c *compiled) matchName(ev *hook.Event) bool {
	name := ev.Name()
	if _, ok := c.names[name]; ok {
		return true
	}
	mod := ev.Module()
	if _, ok := c.modules[mod]; ok {
		return true
	}
	_, ok := c.pairs[[2]string{mod, name}]
	return ok
}

// checkFilter judges filter.events and filter.where.
func checkFilter(p *problems, f hook.EventFilter) {
	if len(f.Events) > MaxFilterEvents {
		p.addf("filter.events", "%d names: at most %d are allowed (a plugin is the better tool for more)", len(f.Events), MaxFilterEvents)
	}
	for i, e := range f.Events {
		if err := checkEventEntry(e); err != nil {
			p.add(fmt.Sprintf("filter.events[%d]", i), err)
		}
	}
	if len(f.Where) > MaxWhereFields {
		p.addf("filter.where", "%d fields: at most %d are allowed (a plugin is the better tool for more)", len(f.Where), MaxWhereFields)
	}
	for _, field := range slices.Sorted(maps.Keys(f.Where)) {
		key := fmt.Sprintf("filter.where.%q", field)
		if err := hook.CheckFieldName(field); err != nil {
			p.addf(key, "%v: the name of an event field is allowed", err)
			continue
		}
		vals := f.Where[field]
		switch {
		case len(vals) == 0:
			p.addf(key, `no values: one or more are allowed ("x", ["x", "y"], "!x" to exclude x)`)
			continue
		case len(vals) > MaxWhereValues:
			p.addf(key, "%d values: at most %d are allowed", len(vals), MaxWhereValues)
			continue
		}
		in := make(map[string]bool, len(vals))
		for _, v := range vals {
			x, neg := strings.CutPrefix(v, "!")
			if !utf8.ValidString(x) || strings.IndexByte(x, 0) >= 0 {
				p.addf(key, "a value is not valid UTF-8 or holds NUL: event fields never do")
				break
			}
			if was, ok := in[x]; ok && was != neg {
				p.addf(key, "%q is both wanted and excluded (\"!%s\"): give one", x, x)
				break
			}
			in[x] = neg
		}
	}
}

// checkEventEntry judges one filter.events entry: NAME, MODULE.* or
// MODULE.NAME.
func checkEventEntry(e string) error {
	const allowed = `an event name ("NEWSESSION"), "MODULE.*" or "MODULE.EVENT" is allowed`
	switch {
	case e == "":
		return fmt.Errorf("empty: %s", allowed)
	case len(e) > 2*maxEventName:
		return fmt.Errorf("%d bytes: at most %d are allowed", len(e), 2*maxEventName)
	case !utf8.ValidString(e):
		return fmt.Errorf("not valid UTF-8: %s", allowed)
	}
	for _, r := range e {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("%q holds a control character: %s", e, allowed)
		}
	}
	mod, ev, dotted := strings.Cut(e, ".")
	switch {
	case e == "*":
		return fmt.Errorf(`"*": leave events out (or empty) for every event; %s`, allowed)
	case !dotted && strings.Contains(e, "*"):
		return fmt.Errorf("%q: a wildcard is allowed only as MODULE.*; %s", e, allowed)
	case !dotted:
		return nil
	case mod == "" || ev == "":
		return fmt.Errorf("%q: %s", e, allowed)
	case strings.Contains(mod, "*") || (ev != "*" && strings.Contains(ev, "*")):
		return fmt.Errorf("%q: a wildcard is allowed only as MODULE.*; %s", e, allowed)
	case strings.Contains(ev, "."):
		return fmt.Errorf("%q has two dots: %s", e, allowed)
	}
	return nil
}
