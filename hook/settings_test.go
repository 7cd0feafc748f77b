package hook_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/hookrt/hookd/hook"
)

func TestSecretDecode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, toml, json string
		want             hook.Secret
		err              string
	}{
		{"literal", `s = "Bearer x"`, `"Bearer x"`, hook.Secret{Value: "Bearer x"}, ""},
		{"file", `s = { file = "hook.token" }`, `{"file": "hook.token"}`, hook.Secret{File: "hook.token"}, ""},
		{"value table", `s = { value = "v" }`, `{"value": "v"}`, hook.Secret{Value: "v"}, ""},
		{"both", `s = { file = "f", value = "v" }`, `{"file": "f", "value": "v"}`, hook.Secret{}, "exactly one of file and value"},
		{"neither", `s = {}`, `{}`, hook.Secret{}, "exactly one of file and value"},
		{"empty file", `s = { file = "" }`, `{"file": ""}`, hook.Secret{}, "exactly one of file and value"},
		{"unknown key", `s = { path = "f" }`, `{"path": "f"}`, hook.Secret{}, `is allowed`},
		{"number", `s = 1`, `1`, hook.Secret{}, `is allowed`},
		{"array", `s = ["a"]`, `["a"]`, hook.Secret{}, `is allowed`},
		{"file number", `s = { file = 1 }`, `{"file": 1}`, hook.Secret{}, `is allowed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var tv struct{ S hook.Secret }
			_, terr := toml.Decode(tc.toml, &tv)
			var jv struct{ S hook.Secret }
			jerr := json.Unmarshal([]byte(`{"S": `+tc.json+`}`), &jv)
			for _, r := range []struct {
				how string
				got hook.Secret
				err error
			}{{"TOML", tv.S, terr}, {"JSON", jv.S, jerr}} {
				switch {
				case tc.err == "" && (r.err != nil || r.got != tc.want):
					t.Errorf("%s: %+v, %v; want %+v", r.how, r.got, r.err, tc.want)
				case tc.err != "" && (r.err == nil || !strings.Contains(r.err.Error(), tc.err)):
					t.Errorf("%s: %+v, %v; want an error saying %q", r.how, r.got, r.err, tc.err)
				}
			}
		})
	}
}

func TestValuesDecode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, toml, json string
		want             hook.Values
		err              string
	}{
		{"one", `v = "1"`, `"1"`, hook.Values{"1"}, ""},
		{"list", `v = ["1", "!2"]`, `["1", "!2"]`, hook.Values{"1", "!2"}, ""},
		{"empty list", `v = []`, `[]`, hook.Values{}, ""},
		{"empty string", `v = ""`, `""`, hook.Values{""}, ""},
		{"number", `v = 1`, `1`, nil, "a string or an array of strings is allowed"},
		{"number item", `v = ["1", 2]`, `["1", 2]`, nil, "is allowed"},
		{"table", `v = { a = "1" }`, `{"a": "1"}`, nil, "is allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var tv struct{ V hook.Values }
			_, terr := toml.Decode(tc.toml, &tv)
			var jv struct{ V hook.Values }
			jerr := json.Unmarshal([]byte(`{"V": `+tc.json+`}`), &jv)
			for _, r := range []struct {
				how string
				got hook.Values
				err error
			}{{"TOML", tv.V, terr}, {"JSON", jv.V, jerr}} {
				switch {
				case tc.err == "" && (r.err != nil || !reflect.DeepEqual(r.got, tc.want)):
					t.Errorf("%s: %q, %v; want %q", r.how, r.got, r.err, tc.want)
				case tc.err != "" && (r.err == nil || !strings.Contains(r.err.Error(), tc.err)):
					t.Errorf("%s: %q, %v; want an error saying %q", r.how, r.got, r.err, tc.err)
				}
			}
		})
	}
}

// JSON null is "not given", never "": a filter `"DOMAIN_ID": null` read
// as [""] would keep only the events without a DOMAIN_ID, and a null
// item would silently become one.
func TestSettingsJSONNull(t *testing.T) {
	t.Parallel()
	var d hook.DeliverySettings
	if err := json.Unmarshal([]byte(`{"headers": {"X-A": null}, "filter": {"where": {"DOMAIN_ID": null}}}`), &d); err != nil {
		t.Fatal(err)
	}
	if v := d.Filter.Where["DOMAIN_ID"]; len(v) != 0 {
		t.Errorf("where DOMAIN_ID: null decoded as %q, want no values", v)
	}
	if s := d.Headers["X-A"]; s != (hook.Secret{}) {
		t.Errorf("header null decoded as %+v", s)
	}
	err := json.Unmarshal([]byte(`{"filter": {"where": {"DOMAIN_ID": ["1", null]}}}`), &d)
	if err == nil || !strings.Contains(err.Error(), "item 1 is null") {
		t.Errorf("a null item: %v, want it refused", err)
	}
}

// Stored domains are written with MarshalJSON and read back with
// UnmarshalJSON: the settings survive the round trip.
func TestSettingsJSONRoundTrip(t *testing.T) {
	t.Parallel()
	in := hook.DeliverySettings{
		Headers:        map[string]hook.Secret{"Authorization": {File: "t"}, "X-A": {Value: "v"}},
		Signing:        "standard-webhooks",
		SigningSecrets: []hook.Secret{{Value: "whsec_x"}, {File: "s"}},
		SigningKey:     "k.pem",
		TLS:            hook.TLSSettings{ClientCert: "c", ClientKey: "k", CA: "ca"},
		Proxy:          "direct",
		Filter:         hook.EventFilter{Events: []string{"NEWSESSION"}, Where: map[string]hook.Values{"DOMAIN_ID": {"1", "!2"}}},
		RateLimit:      2.5, Burst: 3, OrderedBy: "SESSIONID",
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out hook.DeliverySettings
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n got %+v\nwant %+v\njson %s", out, in, b)
	}
	if b, _ := json.Marshal(hook.DeliverySettings{}); string(b) != "{}" {
		t.Errorf("zero settings marshal as %s, want {}", b)
	}
}

// Any input decodes to a Secret or an error, never a panic, and what
// decodes survives a round trip.
func FuzzSecretJSON(f *testing.F) {
	for _, s := range []string{`"x"`, `{"file":"f"}`, `{"value":"v"}`, `{}`, `null`, `{"file":"f","value":"v"}`, `[1]`, `{"file":null}`, `"\u0000"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s hook.Secret
		if err := json.Unmarshal(b, &s); err != nil {
			return
		}
		if s.File != "" && s.Value != "" {
			t.Fatalf("%q decoded to both a file and a value: %+v", b, s)
		}
		out, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back hook.Secret
		if err := json.Unmarshal(out, &back); err != nil || back != s {
			t.Fatalf("%q → %+v → %s → %+v, %v", b, s, out, back, err)
		}
	})
}

func FuzzValuesJSON(f *testing.F) {
	for _, s := range []string{`"x"`, `["a","!b"]`, `[]`, `null`, `[null]`, `1`, `["a",1]`, `{"a":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v hook.Values
		if err := json.Unmarshal(b, &v); err != nil {
			return
		}
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back hook.Values
		if err := json.Unmarshal(out, &back); err != nil || len(back) != len(v) {
			t.Fatalf("%q → %q → %s → %q, %v", b, v, out, back, err)
		}
		for i := range v {
			if back[i] != v[i] {
				t.Fatalf("%q → %q → %s → %q", b, v, out, back)
			}
		}
	})
}

// The TOML decoders take whatever the TOML library hands them.
func FuzzSettingsTOML(f *testing.F) {
	for _, s := range []string{
		`headers = { A = "x", B = { file = "f" } }`,
		`signing_secrets = ["a", { file = "b" }, { value = "c" }]`,
		`filter.where = { X = "1", Y = ["2", "!3"] }`,
		`headers = { A = 1 }`, `headers = { A = { file = 1 } }`, `filter.where = { X = [1] }`, `filter.where = { X = {} }`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d hook.DeliverySettings
		if _, err := toml.Decode(s, &d); err != nil {
			return
		}
		for name, sec := range d.Headers {
			if sec.File != "" && sec.Value != "" {
				t.Fatalf("header %q decoded to both a file and a value", name)
			}
		}
	})
}
