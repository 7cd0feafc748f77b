package config

import (
	"errors"
	"slices"
	"strings"
)

// SortErrors orders problems the way the file reads: by the position, in
// keys (the file's keys in order, [Result].Keys), of the key each is
// about. A problem about a key the file does not set (a default that
// another key makes invalid) comes after the last key of its table; one
// about no key at all, or about a table the file does not have, keeps its
// place at the end. The sort is stable, so problems about one key keep
// the order they were found in.
//
// Problems come from several phases (decoding, validation, the files and
// resources a config names); sorting them together is what lets `hookd
// check` list every one in file order.
func SortErrors(errs []error, keys []string) {
	pos := make(map[string]int, len(keys))
	last := map[string]int{} // table → index of its last key
	for i, k := range keys {
		if _, ok := pos[k]; !ok {
			pos[k] = i
		}
		for p := k; ; {
			j := strings.LastIndexByte(p, '.')
			if j < 0 {
				break
			}
			p = p[:j]
			last[p] = i
		}
		last[k] = max(last[k], i)
	}
	end := len(keys) + 1
	rank := func(err error) float64 {
		var e *Error
		if !errors.As(err, &e) {
			return float64(end)
		}
		if e.Line > 0 {
			return -1
		}
		k := e.Key()
		if i := strings.IndexByte(k, '['); i > 0 { // delivery.retry_schedule[2]
			k = k[:i]
		}
		if i, ok := pos[k]; ok {
			return float64(i)
		}
		for k != "" {
			if i, ok := last[k]; ok {
				return float64(i) + 0.5
			}
			j := strings.LastIndexByte(k, '.')
			if j < 0 {
				break
			}
			k = k[:j]
		}
		return float64(end)
	}
	slices.SortStableFunc(errs, func(a, b error) int {
		ra, rb := rank(a), rank(b)
		switch {
		case ra < rb:
			return -1
		case ra > rb:
			return 1
		}
		return 0
	})
}
