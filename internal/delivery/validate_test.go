package delivery_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
)

// A valid v1 secret: "whsec_" + base64 of 24 bytes.
const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func lit(v string) hook.Secret  { return hook.Secret{Value: v} }
func file(f string) hook.Secret { return hook.Secret{File: f} }

func TestValidate(t *testing.T) {
	t.Parallel()
	many := func(n int, f func(i int) string) map[string]hook.Secret {
		m := map[string]hook.Secret{}
		for i := range n {
			m[f(i)] = lit("v")
		}
		return m
	}
	for _, tc := range []struct {
		name string
		s    *hook.DeliverySettings
		want []string // substrings of the error, in order; nil: valid
	}{
		{"nil", nil, nil},
		{"zero", &hook.DeliverySettings{}, nil},
		{"everything", &hook.DeliverySettings{
			Headers:        map[string]hook.Secret{"Authorization": file("hook.token"), "X-Tenant": lit("acme")},
			Signing:        "standard-webhooks",
			SigningSecrets: []hook.Secret{file("whsec.txt"), lit(testSecret)},
			SigningKey:     "keys/swh.pem",
			TLS:            hook.TLSSettings{ClientCert: "c.pem", ClientKey: "c.key", CA: "ca.pem"},
			Proxy:          "http://egress.example:3128",
			Filter: hook.EventFilter{
				Events: []string{"NEWSESSION", "ISL_CP.*", "ISL_LIGHT.SESSION_END", "NEW SESSION"},
				Where:  map[string]hook.Values{"DOMAIN_ID": {"1", "42"}, "reasonSoftwareType": {"!ISL Light"}},
			},
			RateLimit: 50, Burst: 10, OrderedBy: "SESSIONID",
		}, nil},

		// headers
		{"hop-by-hop", &hook.DeliverySettings{Headers: map[string]hook.Secret{"Connection": lit("close")}},
			[]string{`headers."Connection": a hop-by-hop header is not allowed`}},
		{"hop-by-hop any case", &hook.DeliverySettings{Headers: map[string]hook.Secret{"transfer-ENCODING": lit("chunked")}},
			[]string{`headers."transfer-ENCODING": a hop-by-hop header is not allowed`}},
		{"host", &hook.DeliverySettings{Headers: map[string]hook.Secret{"Host": lit("x")}}, []string{`headers."Host": Host is not allowed`}},
		{"content-length", &hook.DeliverySettings{Headers: map[string]hook.Secret{"content-length": lit("1")}}, []string{`Content-Length is not allowed`}},
		{"own", &hook.DeliverySettings{Headers: map[string]hook.Secret{"X-Event-Id": lit("1")}}, []string{`headers."X-Event-Id": hookd sets X-Event-Id itself`}},
		{"own content-type", &hook.DeliverySettings{Headers: map[string]hook.Secret{"Content-Type": lit("text/plain")}}, []string{`hookd sets Content-Type itself`}},
		{"own traceparent", &hook.DeliverySettings{Headers: map[string]hook.Secret{"TraceParent": lit("x")}}, []string{`hookd sets traceparent itself`}},
		{"signature's", &hook.DeliverySettings{Headers: map[string]hook.Secret{"Webhook-Signature": lit("v1,x")}},
			[]string{`headers."Webhook-Signature": the Standard Webhooks signature sets webhook-signature`}},
		{"not a token", &hook.DeliverySettings{Headers: map[string]hook.Secret{"X Tenant": lit("x")}}, []string{`headers."X Tenant": not a header name`}},
		{"colon", &hook.DeliverySettings{Headers: map[string]hook.Secret{"X-A:": lit("x")}}, []string{`not a header name`}},
		{"empty name", &hook.DeliverySettings{Headers: map[string]hook.Secret{"": lit("x")}}, []string{`headers."": an empty header name`}},
		{"twice", &hook.DeliverySettings{Headers: map[string]hook.Secret{"X-A": lit("1"), "x-a": lit("2")}}, []string{`headers."x-a": given twice, also as "X-A"`}},
		{"CRLF", &hook.DeliverySettings{Headers: map[string]hook.Secret{"X-A": lit("a\r\nX-Evil: 1")}}, []string{`headers."X-A": the value holds a control character (byte 1 is 0x0d)`}},
		{"NUL", &hook.DeliverySettings{Headers: map[string]hook.Secret{"X-A": lit("a\x00")}}, []string{`control character`}},
		{"tab ok", &hook.DeliverySettings{Headers: map[string]hook.Secret{"X-A": lit("a\tb")}}, nil},
		{"empty value", &hook.DeliverySettings{Headers: map[string]hook.Secret{"X-A": {}}}, []string{`headers."X-A": an empty value is not allowed`}},
		{"both", &hook.DeliverySettings{Headers: map[string]hook.Secret{"X-A": {Value: "v", File: "f"}}}, []string{`both a value and a file`}},
		{"long value", &hook.DeliverySettings{Headers: map[string]hook.Secret{"X-A": lit(strings.Repeat("x", 8<<10+1))}}, []string{`the value is 8193 bytes: at most 8192`}},
		{"8 KiB ok", &hook.DeliverySettings{Headers: map[string]hook.Secret{"X-A": lit(strings.Repeat("x", 8<<10))}}, nil},
		{"33 headers", &hook.DeliverySettings{Headers: many(33, func(i int) string { return "X-H" + string(rune('A'+i%26)) + string(rune('a'+i/26)) })},
			[]string{`headers: 33 headers: at most 32 are allowed`}},
		{"absolute file", &hook.DeliverySettings{Headers: map[string]hook.Secret{"X-A": file("/etc/passwd")}}, []string{`headers."X-A": file "/etc/passwd" is absolute`}},
		{"climbing file", &hook.DeliverySettings{Headers: map[string]hook.Secret{"X-A": file("../x")}}, []string{`file "../x" leaves the private directory`}},

		// signing
		{"unknown signing", &hook.DeliverySettings{Signing: "hmac"}, []string{`signing: "hmac": "standard-webhooks" or nothing is allowed`}},
		{"signing without secret", &hook.DeliverySettings{Signing: "standard-webhooks"}, []string{`signing: "standard-webhooks" needs signing_secrets`}},
		{"key alone", &hook.DeliverySettings{Signing: "standard-webhooks", SigningKey: "k.pem"}, nil},
		{"secrets without signing", &hook.DeliverySettings{SigningSecrets: []hook.Secret{lit(testSecret)}}, []string{`signing: signing_secrets or signing_key without signing`}},
		{"key without signing", &hook.DeliverySettings{SigningKey: "k.pem"}, []string{`without signing`}},
		{"bad literal secret", &hook.DeliverySettings{Signing: "standard-webhooks", SigningSecrets: []hook.Secret{lit(testSecret), lit("whsec_c2hvcnQ=")}},
			[]string{`signing_secrets[1]: signing secret decodes to 5 bytes`}},
		{"bare base64 secret", &hook.DeliverySettings{Signing: "standard-webhooks", SigningSecrets: []hook.Secret{lit(strings.TrimPrefix(testSecret, "whsec_"))}}, nil},
		{"nine secrets", &hook.DeliverySettings{Signing: "standard-webhooks", SigningSecrets: []hook.Secret{
			lit(testSecret), lit(testSecret), lit(testSecret), lit(testSecret), lit(testSecret), lit(testSecret), lit(testSecret), lit(testSecret), lit(testSecret)}},
			[]string{`signing_secrets: 9 secrets: at most 8`}},
		{"key climbs", &hook.DeliverySettings{Signing: "standard-webhooks", SigningKey: "../k.pem"}, []string{`signing_key: file "../k.pem" leaves`}},

		// tls
		{"cert without key", &hook.DeliverySettings{TLS: hook.TLSSettings{ClientCert: "c.pem"}}, []string{`tls: client_cert and client_key go together`}},
		{"key without cert", &hook.DeliverySettings{TLS: hook.TLSSettings{ClientKey: "c.key"}}, []string{`tls: client_cert and client_key go together`}},
		{"ca dot", &hook.DeliverySettings{TLS: hook.TLSSettings{CA: "./"}}, []string{`tls.ca: file "./" is the private directory itself`}},
		{"ca alone", &hook.DeliverySettings{TLS: hook.TLSSettings{CA: "ca.pem"}}, nil},
		{"ca absolute", &hook.DeliverySettings{TLS: hook.TLSSettings{CA: "/etc/ssl/ca.pem"}}, []string{`tls.ca: file "/etc/ssl/ca.pem" is absolute`}},

		// proxy
		{"proxy direct", &hook.DeliverySettings{Proxy: "direct"}, nil},
		{"proxy https", &hook.DeliverySettings{Proxy: "https://u:p@egress.example:443/"}, nil},
		{"proxy socks", &hook.DeliverySettings{Proxy: "socks5://egress:1080"}, []string{`proxy: "socks5://egress:1080": "direct" or an http:// or https:// URL`}},
		{"proxy no port", &hook.DeliverySettings{Proxy: "http://egress"}, []string{`proxy: "http://egress" has no port`}},
		{"proxy path", &hook.DeliverySettings{Proxy: "http://egress:3128/x?y"}, []string{`has a path, query or fragment`}},
		{"proxy bare", &hook.DeliverySettings{Proxy: "egress:3128"}, []string{`proxy: `}},
		{"proxy password hidden", &hook.DeliverySettings{Proxy: "ftp://u:hunter2@egress:21"}, []string{`"ftp://u:xxxxx@egress:21"`}},
		{"proxy port 0", &hook.DeliverySettings{Proxy: "http://egress:0"}, []string{`the port must be 1 to 65535`}},

		// filter
		{"event empty", &hook.DeliverySettings{Filter: hook.EventFilter{Events: []string{""}}}, []string{`filter.events[0]: empty`}},
		{"event star", &hook.DeliverySettings{Filter: hook.EventFilter{Events: []string{"*"}}}, []string{`filter.events[0]: "*": leave events out`}},
		{"event wildcard", &hook.DeliverySettings{Filter: hook.EventFilter{Events: []string{"NEW*"}}}, []string{`a wildcard is allowed only as MODULE.*`}},
		{"event module wildcard", &hook.DeliverySettings{Filter: hook.EventFilter{Events: []string{"*.NEWSESSION"}}}, []string{`a wildcard is allowed only as MODULE.*`}},
		{"event dot", &hook.DeliverySettings{Filter: hook.EventFilter{Events: []string{"ISL_CP."}}}, []string{`filter.events[0]: "ISL_CP."`}},
		{"event two dots", &hook.DeliverySettings{Filter: hook.EventFilter{Events: []string{"A.B.C"}}}, []string{`has two dots`}},
		{"event control", &hook.DeliverySettings{Filter: hook.EventFilter{Events: []string{"A\nB"}}}, []string{`control character`}},
		{"where bad field", &hook.DeliverySettings{Filter: hook.EventFilter{Where: map[string]hook.Values{"DOMAIN ID": {"1"}}}}, []string{`filter.where."DOMAIN ID": field name "DOMAIN ID": only printable ASCII`}},
		{"where no values", &hook.DeliverySettings{Filter: hook.EventFilter{Where: map[string]hook.Values{"DOMAIN_ID": {}}}}, []string{`filter.where."DOMAIN_ID": no values`}},
		{"where both", &hook.DeliverySettings{Filter: hook.EventFilter{Where: map[string]hook.Values{"DOMAIN_ID": {"1", "!1"}}}}, []string{`"1" is both wanted and excluded`}},

		// rate
		{"rate negative", &hook.DeliverySettings{RateLimit: -1}, []string{`rate_limit: -1: 0 (no limit) or more than 0`}},
		{"rate NaN", &hook.DeliverySettings{RateLimit: math.NaN()}, []string{`rate_limit: NaN`}},
		{"rate Inf", &hook.DeliverySettings{RateLimit: math.Inf(1)}, []string{`rate_limit: +Inf`}},
		{"rate high", &hook.DeliverySettings{RateLimit: 100001}, []string{`at most 100000 requests per second`}},
		{"rate fraction", &hook.DeliverySettings{RateLimit: 0.5}, nil},
		{"burst alone", &hook.DeliverySettings{Burst: 5}, []string{`burst: burst without rate_limit`}},
		{"burst negative", &hook.DeliverySettings{RateLimit: 1, Burst: -1}, []string{`burst: -1: 0 to 10000`}},
		{"burst high", &hook.DeliverySettings{RateLimit: 1, Burst: 10001}, []string{`burst: 10001: 0 to 10000`}},

		// order
		{"ordered_by bad", &hook.DeliverySettings{OrderedBy: "SESSION ID"}, []string{`ordered_by: field name "SESSION ID"`}},

		// several at once, each under its key, in a stable order
		{"all reported", &hook.DeliverySettings{
			Headers: map[string]hook.Secret{"Upgrade": lit("x"), "Content-Type": lit("x")},
			Signing: "x", Proxy: "x", RateLimit: -1,
		}, []string{`headers."Content-Type"`, `headers."Upgrade"`, `signing: "x"`, `proxy:`, `rate_limit:`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := delivery.Validate(tc.s)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want %q", tc.want)
			}
			msg := err.Error()
			at := 0
			for _, w := range tc.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("Validate: %q\nwant it to say %q (after byte %d)", msg, w, at)
				}
				at += i + len(w)
			}
			for _, secret := range []string{"hunter2", "a\r\nX-Evil", testSecret} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q shows a secret", msg)
				}
			}
		})
	}
}

func TestCheckCombine(t *testing.T) {
	t.Parallel()
	ordered := &hook.DeliverySettings{OrderedBy: "SESSIONID"}
	if err := delivery.CheckCombine(ordered, 0); err != nil {
		t.Errorf("not combined: %v", err)
	}
	if err := delivery.CheckCombine(&hook.DeliverySettings{}, time.Second); err != nil {
		t.Errorf("not ordered: %v", err)
	}
	if err := delivery.CheckCombine(nil, time.Second); err != nil {
		t.Errorf("nil: %v", err)
	}
	err := delivery.CheckCombine(ordered, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "ordered_by: not allowed with combine_interval (5s)") {
		t.Errorf("combined and ordered: %v", err)
	}
}

func TestCheckProxy(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", "direct", "http://127.0.0.1:3128", "https://egress.example:443", "http://[::1]:8080"} {
		if err := delivery.CheckProxy(ok); err != nil {
			t.Errorf("CheckProxy(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"Direct", "http://:3128", "http://h:x", "http://h:99999", "http://h:1#f", "mailto:x@y", "http://h:1?"} {
		if err := delivery.CheckProxy(bad); err == nil {
			t.Errorf("CheckProxy(%q): nil, want an error", bad)
		}
	}
}

func TestPrefix(t *testing.T) {
	t.Parallel()
	if delivery.Prefix("[x]", nil) != nil {
		t.Error("Prefix of nil is not nil")
	}
	err := delivery.Validate(&hook.DeliverySettings{Signing: "x", RateLimit: -1})
	got := delivery.Prefix("[jwt_webhook.delivery]", err).Error()
	lines := strings.Split(got, "\n")
	if len(lines) != 2 {
		t.Fatalf("Prefix: %q, want two lines", got)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "[jwt_webhook.delivery] ") {
			t.Errorf("line %q is not prefixed", l)
		}
	}
}
