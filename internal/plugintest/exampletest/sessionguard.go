package exampletest

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/hostfn"
	"github.com/hookrt/hookd/internal/plugintest"
	"github.com/hookrt/hookd/internal/xmlmsg"
)

// testSessionGuard: a new session from a blocked address, in any of the
// address fields and spellings, is dropped with the secret and the reason
// logged; any other event or address is left alone.
func testSessionGuard(t *testing.T, p Plugins) {
	guard := p.load(t, p.SessionGuard, hostfn.Grants{Config: json.RawMessage(`{"block": ["10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32", "::ffff:198.51.100.0/120", " 203.0.113.9 "], "secret": "s3cret"}`)})
	ctx := context.Background()

	for _, tc := range []struct {
		name   string
		fields map[string]string // over plugintest.Event; "-" deletes
		drop   string            // the session dropped, or "" for <nomessage/>
		log    string            // a line the call logs
	}{
		{"blocked reasonAddress", map[string]string{"reasonAddress": "10.1.2.3"}, "5a1b", "dropping session 5a1b: client 10.1.2.3 (reasonAddress) is in blocked 10.0.0.0/8"},
		{"NEW SESSION spelling", map[string]string{"EVENT": "NEW SESSION", "reasonAddress": "192.0.2.77"}, "5a1b", "is in blocked 192.0.2.0/24"},
		{"allowed address", map[string]string{"reasonAddress": "203.0.113.42"}, "", ""},
		{"edge of a blocked prefix", map[string]string{"reasonAddress": "192.0.3.0"}, "", ""},
		{"blocked clientAddress with port", map[string]string{"reasonAddress": "-", "clientAddress": "192.0.2.9:5000"}, "5a1b", "(clientAddress)"},
		{"blocked CLIENT_ADDR, IPv4-mapped", map[string]string{"CLIENT_ADDR": "[::ffff:10.0.0.1]:80"}, "5a1b", "client 10.0.0.1 (CLIENT_ADDR)"},
		{"blocked IPv6", map[string]string{"reasonAddress": "2001:db8::7"}, "5a1b", "client 2001:db8::7 (reasonAddress) is in blocked 2001:db8::/32"},
		{"blocked IPv6 with a zone and a port", map[string]string{"reasonAddress": "[2001:DB8:0:0:1::1%eth0]:443"}, "5a1b", "client 2001:db8::1:0:0:1 (reasonAddress)"},
		{"IPv6 outside", map[string]string{"reasonAddress": "2001:db9::1"}, "", ""},
		{"an IPv4-mapped prefix", map[string]string{"reasonAddress": "198.51.100.200"}, "5a1b", "is in blocked 198.51.100.0/24"},
		{"a single address", map[string]string{"reasonAddress": "203.0.113.9"}, "5a1b", "is in blocked 203.0.113.9/32"},
		{"another event", map[string]string{"EVENT": "STOP", "reasonAddress": "10.1.2.3"}, "", ""},
		{"not an address", map[string]string{"reasonAddress": "desk.example.com"}, "", `reasonAddress "desk.example.com" is not an IP address`},
		{"leading zero", map[string]string{"reasonAddress": "010.1.2.3"}, "", `reasonAddress "010.1.2.3" is not an IP address`},
		{"IPv6 without brackets and a port", map[string]string{"reasonAddress": "::ffff:10.0.0.1.80"}, "", "is not an IP address"},
		{"no session to drop", map[string]string{"reasonAddress": "10.1.2.3", "SESSIONID": "-"}, "", "no SESSIONID to drop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := plugintest.Event(nil)
			for k, v := range tc.fields {
				if v == "-" {
					delete(ev.Fields, k)
				} else {
					ev.Fields[k] = v
				}
			}
			out, err := guard.Call(ctx, ev)
			if err != nil || out.Status != 0 {
				t.Fatalf("status %d err %v (%s)", out.Status, err, out.Error)
			}
			if tc.log != "" && !HasLog(out, hostapi.LevelInfo, tc.log) && !HasLog(out, hostapi.LevelWarn, tc.log) {
				t.Errorf("no log line with %q: %v", tc.log, out.Logs)
			}
			if tc.drop == "" {
				if out.Reply != nil {
					t.Errorf("reply %s, want <nomessage/>", out.Reply)
				}
				return
			}
			r, err := xmlmsg.Parse(out.Reply)
			if err != nil {
				t.Fatalf("reply %s: %v", out.Reply, err)
			}
			want := xmlmsg.Command{Session: tc.drop, Kind: xmlmsg.KindDrop}
			if r.Secret != "s3cret" || len(r.Commands) != 1 || r.Commands[0] != want {
				t.Errorf("reply %s, want a drop of %s with the secret", out.Reply, tc.drop)
			}
		})
	}
}

// testSessionGuardInvalidConfig: a config the guard cannot use fails
// every event for good, saying what is wrong with it.
func testSessionGuardInvalidConfig(t *testing.T, p Plugins) {
	const notPrefix = " is not a CIDR prefix like 10.0.0.0/8 or an address like 192.0.2.7"
	configs := map[string]string{
		`{"block": ["10.0.0.1/8"], "secret": "s"}`:         `session-guard: invalid config: block[0] "10.0.0.1/8"` + notPrefix + ": host bits set",
		`{"block": ["::ffff:10.0.0.0/95"], "secret": "s"}`: `session-guard: invalid config: block[0] "::ffff:10.0.0.0/95"` + notPrefix + ": host bits set",
		`{"block": ["fe80::1%eth0/64"], "secret": "s"}`:    `session-guard: invalid config: block[0] "fe80::1%eth0/64" is not a CIDR prefix`,
		`{"block": ["ok", "10.0.0.0/8"], "secret": "s"}`:   `session-guard: invalid config: block[0] "ok" is not a CIDR prefix`,
		`{"blocked": ["10.0.0.0/8"], "secret": "s"}`:       `session-guard: invalid config: pdk: config: unknown field "blocked"`,
		`{"block": ["10.0.0.0/8"]}`:                        `session-guard: invalid config: "secret" (the proxy's XMLMSG database secret) is missing`,
		`{"block": ["10.0.0.0/8"], "secret": " \t"}`:       `session-guard: invalid config: "secret" (the proxy's XMLMSG database secret) is missing`,
		`{"block": ["10.0.0.0/8", 7], "secret": "s"}`:      "session-guard: invalid config: pdk: config: block[1]: cannot use the number 7 as string",
	}
	maps.Copy(configs, p.GuardConfigErrors)
	for cfg, want := range configs {
		guard := p.load(t, p.SessionGuard, hostfn.Grants{Config: json.RawMessage(cfg)})
		for range 2 { // the error is kept, and stays permanent
			out, err := guard.Call(context.Background(), plugintest.Event(map[string]string{"reasonAddress": "10.1.2.3"}))
			if err != nil || out.Status != 2 || !strings.HasPrefix(out.Error, want) || out.Reply != nil {
				t.Errorf("config %s: status %d err %v error %q, want 2 %q", cfg, out.Status, err, out.Error, want)
			}
		}
	}
}
