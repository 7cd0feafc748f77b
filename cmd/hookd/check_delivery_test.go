package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/testsupport/deliverytest"
)

// TestCheckRefusesDeliverySettings (issue 18): `hookd check` refuses the
// delivery tables `hookd serve` refuses, with the same lines: a bad table
// (judged by delivery.Validate at load: a module's, a [[domain]]'s and
// [delivery] proxy) and a file a table names that is not there (read
// when the module is provisioned).
func TestCheckRefusesDeliverySettings(t *testing.T) {
	t.Parallel()
	hookd := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), args, &out, &errb)
		return code, errb.String()
	}
	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		cfg := filepath.Join(dir, "config.toml")
		conf := "[server]\nlisten = \"" + freeAddr(t) + "\"\n[delivery]\nproxy = \"socks5://egress:1080\"\n" +
			"[jwt_webhook]\nurl = \"http://127.0.0.1:1/\"\nprivate_key = \"webhook.pem\"\n[jwt_webhook.events]\nuser_create = true\n" +
			"[jwt_webhook.delivery]\nheaders = { Connection = \"close\" }\n" +
			"[http_events]\nper_domain = true\n[[domain]]\nid = \"7\"\nscript = \"https://a.example/\"\n[domain.delivery]\nsigning = \"standard-webhooks\"\n"
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		code, check := hookd("check", "-config", cfg)
		if code != 1 {
			t.Fatalf("check: exit %d\n%s", code, check)
		}
		for _, want := range []string{
			cfg + `: delivery.proxy: "socks5://egress:1080": "direct" or an http:// or https:// URL`,
			cfg + `: [jwt_webhook]: delivery: headers."Connection": `,
			cfg + `: [domain]: [[domain]] id "7": delivery: signing`,
		} {
			if !strings.Contains(check, want) {
				t.Errorf("check lacks %q:\n%s", want, check)
			}
		}
		code, serve := hookd("serve", "-config", cfg)
		if code != 1 || serve != check {
			t.Errorf("serve: exit %d\n%s\nwant exit 1 and what check said\n%s", code, serve, check)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		dir, priv := deliverytest.PrivateDir(t)
		deliverytest.WriteKey(t, priv, "webhook.pem")
		cfg := filepath.Join(dir, "config.toml")
		conf := "[server]\nlisten = \"" + freeAddr(t) + "\"\n" +
			"[jwt_webhook]\nurl = \"http://127.0.0.1:1/\"\nprivate_key = \"webhook.pem\"\n[jwt_webhook.events]\nuser_create = true\n" +
			"[jwt_webhook.delivery]\nheaders = { Authorization = { file = \"hook.token\" } }\n"
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		code, check := hookd("check", "-offline", "-config", cfg)
		want := cfg + `: [jwt_webhook]: delivery: headers."Authorization": `
		if code != 1 || !strings.Contains(check, want) || !strings.Contains(check, "hook.token") {
			t.Fatalf("check: exit %d\n%s\nwant exit 1 and a line starting %q naming hook.token", code, check, want)
		}
		code, serve := hookd("serve", "-config", cfg)
		line := check[strings.Index(check, want):]
		line = line[:strings.IndexByte(line, '\n')+1]
		if code != 1 || !strings.Contains(serve, line) {
			t.Errorf("serve: exit %d\n%s\nwant exit 1 and check's line\n%s", code, serve, line)
		}
	})
}
