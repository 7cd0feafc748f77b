package jwtwebhook

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hookrt/hookd/hook"
)

// A token's claims are written straight into a pooled buffer as JSON, in
// the bytes encoding/json gives the claims map the webhook used to build
// (names sorted, HTML characters escaped), and signed with
// [jwtsign.Key.SignJSON]. The map, its boxed values and golang-jwt's
// reflection were a third of the allocations of a delivery.

// claim is one name of the claims object, in name order: its `"name":`
// and either the configured value, encoded once, or which of the
// per-token values goes there.
type claim struct {
	prefix []byte // `"name":`, after a comma for all but the first
	value  []byte // the configured claim's JSON; nil for a per-token one
	slot   slot
}

// slot names a claim hookd sets on every token (reservedClaims).
type slot uint8

const (
	slotStatic slot = iota
	slotIat
	slotExp
	slotJti
	slotEvent
	slotModule
	slotServerID
	slotDomainID
	slotData
)

// slots maps each of reservedClaims to its slot.
var slots = map[string]slot{
	"iat": slotIat, "exp": slotExp, "jti": slotJti, "event": slotEvent,
	"module": slotModule, "server_id": slotServerID, "domain_id": slotDomainID, "data": slotData,
}

// claimPlan returns the claims of every token, in name order: the
// configured ones, except those hookd sets (Validate refuses them; a
// webhook that was not validated has them overridden, as a map would),
// and hookd's own. An error means a configured claim does not encode.
func claimPlan(configured Claims) ([]claim, error) {
	names := slices.Sorted(maps.Keys(slots))
	for name := range configured {
		if _, own := slots[name]; !own {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	plan := make([]claim, len(names))
	for i, name := range names {
		var p []byte
		if i > 0 {
			p = append(p, ',')
		}
		p = append(appendString(p, name), ':')
		plan[i] = claim{prefix: p, slot: slots[name]}
		if plan[i].slot == slotStatic {
			v, err := json.Marshal(configured[name])
			if err != nil {
				return nil, err
			}
			plan[i].value = v
		}
	}
	return plan, nil
}

// buffers holds the claims buffers of tokens being signed.
var buffers = sync.Pool{New: func() any { return new(claimsBuffer) }}

// claimsBuffer is one token's claims JSON and the sorted names of its
// event's fields.
type claimsBuffer struct {
	json  []byte
	names []string
}

// appendClaims appends the claims object of ev's token, stamped now, to
// dst; names is scratch space for the sorted field names. It returns both,
// grown as needed.
func (w *Webhook) appendClaims(dst []byte, names []string, ev *hook.Event, now time.Time) ([]byte, []string) {
	dst = append(dst, '{')
	for _, c := range w.plan {
		dst = append(dst, c.prefix...)
		switch c.slot {
		case slotStatic:
			dst = append(dst, c.value...)
		case slotIat:
			dst = strconv.AppendInt(dst, now.Unix(), 10)
		case slotExp:
			dst = strconv.AppendInt(dst, now.Add(w.lifetime()).Unix(), 10)
		case slotJti:
			dst = appendString(dst, ev.ID)
		case slotEvent:
			dst = appendString(dst, w.events[ev.Name()])
		case slotModule:
			dst = appendString(dst, ev.Module())
		case slotServerID:
			dst = appendString(dst, ev.ServerID())
		case slotDomainID:
			dst = appendString(dst, ev.DomainID())
		case slotData:
			dst, names = appendFields(dst, names, ev.Fields)
		}
	}
	return append(dst, '}'), names
}

// appendFields appends fields as a JSON object with sorted names (null
// for a nil map, as encoding/json writes it).
func appendFields(dst []byte, names []string, fields map[string]string) ([]byte, []string) {
	if fields == nil {
		return append(dst, "null"...), names
	}
	names = names[:0]
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)
	dst = append(dst, '{')
	for i, name := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(appendString(dst, name), ':')
		dst = appendString(dst, fields[name])
	}
	clear(names) // the pool keeps no event's strings alive
	return append(dst, '}'), names
}

// appendString appends s as a JSON string exactly as encoding/json's
// Marshal writes it: <, > and & escaped, invalid UTF-8 replaced by
// U+FFFD, U+2028 and U+2029 escaped (TestAppendStringIsMarshal).
func appendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= ' ' && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
