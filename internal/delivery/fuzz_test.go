package delivery_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
)

// keyed is how every line of Validate's error starts: the key it is about.
var keyed = regexp.MustCompile(`^(headers(\."(?s:.*)")?|signing|signing_secrets(\[\d+\])?|signing_key|tls(\.client_cert|\.client_key|\.ca)?|proxy|filter\.events(\[\d+\])?|filter\.where(\."(?s:.*)")?|rate_limit|burst|ordered_by): `)

// Any stored domain's "delivery" JSON is judged without a panic; every
// problem names its key; what Validate accepts, Filter compiles and View
// describes; Build of it fails only on files.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"headers":{"Authorization":{"file":"t"},"X-A":"v","Connection":"x"}}`,
		`{"signing":"standard-webhooks","signing_secrets":["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",{"file":"s"}],"signing_key":"k.pem"}`,
		`{"tls":{"client_cert":"c","ca":"../ca"}}`,
		`{"proxy":"http://u:p@egress:3128"}`, `{"proxy":"direct"}`,
		`{"filter":{"events":["NEWSESSION","ISL_CP.*","A.B.C","*"],"where":{"DOMAIN_ID":["1","!2"],"X":"!"}}}`,
		`{"rate_limit":50,"burst":10,"ordered_by":"SESSIONID"}`, `{"rate_limit":-1,"burst":1e9}`,
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		var s hook.DeliverySettings
		if err := json.Unmarshal(b, &s); err != nil {
			return
		}
		delivery.View(&s, "http://egress:3128")
		delivery.CheckOwner(&s)
		err := delivery.Validate(&s)
		if err != nil {
			for line := range strings.SplitSeq(err.Error(), "\n") {
				if !keyed.MatchString(line) { // names are quoted (%q): no raw newline
					t.Fatalf("problem %q does not name its key", line)
				}
			}
			return
		}
		if _, ferr := delivery.Filter(&s); ferr != nil {
			t.Fatalf("Validate accepted what Filter refuses: %v", ferr)
		}
		if _, berr := delivery.Build(&s, delivery.Env{PrivateDir: dir}); berr != nil && !strings.Contains(berr.Error(), "does not exist") {
			t.Fatalf("Build of valid settings without files: %v", berr)
		}
	})
}

// The compiled filter agrees with the rules read plainly (refFilter).
func FuzzFilter(f *testing.F) {
	f.Add("NEWSESSION,ISL_CP.*", "DOMAIN_ID", "1,!2", "ISL_LIGHT", "NEW SESSION", "1")
	f.Add("ISL_LIGHT.NEWSESSION", "X", "!", "ISL_LIGHT", "NEWSESSION", "")
	f.Add("", "X", "", "M", "E", "")
	f.Add("A.B.C,*", "X Y", "a", "A", "B", "a")
	f.Fuzz(func(t *testing.T, events, field, values, module, name, value string) {
		var filter hook.EventFilter
		if events != "" {
			filter.Events = strings.Split(events, ",")
		}
		if field != "" {
			filter.Where = map[string]hook.Values{field: strings.Split(values, ",")}
		}
		keep, err := delivery.Filter(&hook.DeliverySettings{Filter: filter})
		if err != nil {
			return
		}
		fields := map[string]string{"MODULE": module, "EVENT": name}
		if field != "" && value != "" {
			fields[field] = value
		}
		e := &hook.Event{Fields: fields}
		want := refFilter(filter, e)
		if keep == nil {
			if !filter.IsZero() {
				t.Fatal("no predicate for a filter")
			}
			return
		}
		if got := keep(e); got != want {
			t.Fatalf("filter %+v on %v: %v, want %v", filter, fields, got, want)
		}
	})
}

// refFilter is the filter's meaning as the README states it, in the
// plainest code.
func refFilter(f hook.EventFilter, e *hook.Event) bool {
	if len(f.Events) > 0 {
		ok := false
		for _, x := range f.Events {
			if i := strings.Index(x, "."); i >= 0 {
				mod, ev := x[:i], x[i+1:]
				ok = ok || (mod == e.Module() && (ev == "*" || hook.CanonicalEventName(ev) == e.Name()))
			} else {
				ok = ok || hook.CanonicalEventName(x) == e.Name()
			}
		}
		if !ok {
			return false
		}
	}
	for field, vals := range f.Where {
		v, wanted, any := e.Get(field), false, false
		for _, x := range vals {
			if strings.HasPrefix(x, "!") {
				if v == x[1:] {
					return false
				}
			} else {
				any = true
				wanted = wanted || v == x
			}
		}
		if any && !wanted {
			return false
		}
	}
	return true
}
