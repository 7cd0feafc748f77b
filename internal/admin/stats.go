package admin

import (
	"encoding/json"
	"reflect"

	"github.com/hookrt/hookd/internal/ops"
)

// statsOf returns the chart's source a Backend offers: its Stats method
// when it returns an [ops.Stats] ([StatsSource]); nil without one.
//
// Until the runtime's Stats type is ops.Stats (runtime/admin.go keeps its
// own copy of the ring, with the same JSON form; the alias is asked of its
// owner), a Stats method returning any other type is read through that
// JSON form: the admin page then needs neither to import the runtime nor
// to lose its chart. Once the runtime returns ops.Stats, the first case
// takes it and this bridge is never reached.
func statsOf(b Backend) func() ops.Stats {
	if src, ok := b.(StatsSource); ok {
		return src.Stats
	}
	m := reflect.ValueOf(b).MethodByName("Stats")
	if !m.IsValid() || m.Type().NumIn() != 0 || m.Type().NumOut() != 1 {
		return nil
	}
	return func() ops.Stats {
		st := ops.Stats{Interval: ops.StatsInterval}
		raw, err := json.Marshal(m.Call(nil)[0].Interface())
		if err == nil {
			_ = json.Unmarshal(raw, &st) // a shape that does not match leaves the chart empty
		}
		return st
	}
}
