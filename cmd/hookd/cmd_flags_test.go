package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
)

// commandsWithHelp lists every command and subcommand; each must print its
// usage to stdout and exit 0 on -h, -help and --help, and print it to
// stderr and exit 2 on a bad flag.
var commandsWithHelp = [][]string{
	{"serve"}, {"check"}, {"keys", "jwks"}, {"keys", "generate"},
	{"plugin", "check"}, {"plugin", "run"}, {"version"}, {"health"},
	{"deliveries", "list"}, {"deliveries", "show"}, {"deliveries", "retry"}, {"deliveries", "discard"},
	{"targets", "list"}, {"targets", "enable"}, {"targets", "disable"}, {"targets", "pause"}, {"targets", "resume"},
	{"replay"},
	{"domains", "list"}, {"domains", "get"}, {"domains", "put"}, {"domains", "delete"},
	{"domains", "logs"}, {"domains", "audit"}, {"domains", "summary"},
	{"domains", "token", "create"}, {"domains", "token", "list"}, {"domains", "token", "revoke"},
	{"plugin", "push"}, {"plugin", "versions"}, {"plugin", "activate"}, {"plugin", "rm"}, {"plugin", "test"},
}

// groups are the commands that only dispatch to subcommands.
var groups = []string{"keys", "plugin", "deliveries", "targets", "domains"}

// hasCommand reports whether run knows cmd (another engineer adds
// "config": tested here once it exists).
func hasCommand(cmd string) bool {
	var out, errb bytes.Buffer
	run(context.Background(), []string{cmd, "-h"}, &out, &errb)
	return !strings.Contains(errb.String(), "unknown command")
}

func TestHelpEveryCommand(t *testing.T) {
	t.Parallel()
	cmds := slices.Clone(commandsWithHelp)
	if hasCommand("config") {
		cmds = append(cmds, []string{"config"})
	}
	for _, cmd := range cmds {
		name := strings.Join(cmd, " ")
		for _, h := range []string{"-h", "-help", "--help"} {
			var out, errb bytes.Buffer
			code := run(context.Background(), append(slices.Clone(cmd), h), &out, &errb)
			if code != 0 || errb.Len() != 0 || !strings.HasPrefix(out.String(), "usage: hookd "+name) {
				t.Errorf("hookd %s %s: exit %d, stdout %q, stderr %q; want exit 0 and the usage on stdout", name, h, code, out.String(), errb.String())
			}
		}
		// hookd help CMD is CMD -h.
		var out, errb bytes.Buffer
		if code := run(context.Background(), append([]string{"help"}, cmd...), &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "usage: hookd "+name) {
			t.Errorf("hookd help %s: exit %d, stdout %q, stderr %q", name, code, out.String(), errb.String())
		}
		out.Reset()
		errb.Reset()
		code := run(context.Background(), append(slices.Clone(cmd), "-no-such-flag"), &out, &errb)
		if code != 2 || out.Len() != 0 || !strings.Contains(errb.String(), "flag provided but not defined: -no-such-flag") ||
			!strings.Contains(errb.String(), "usage: hookd "+name) {
			t.Errorf("hookd %s -no-such-flag: exit %d, stdout %q, stderr %q; want exit 2 and the usage on stderr", name, code, out.String(), errb.String())
		}
	}
	for _, g := range groups {
		for _, h := range []string{"-h", "--help", "help"} {
			var out, errb bytes.Buffer
			if code := run(context.Background(), []string{g, h}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "usage:") || errb.Len() != 0 {
				t.Errorf("hookd %s %s: exit %d, stdout %q, stderr %q", g, h, code, out.String(), errb.String())
			}
		}
		for _, args := range [][]string{{g}, {g, "bogus"}} {
			var out, errb bytes.Buffer
			if code := run(context.Background(), args, &out, &errb); code != 2 || out.Len() != 0 || !strings.Contains(errb.String(), "usage:") {
				t.Errorf("hookd %s: exit %d, stdout %q, stderr %q; want exit 2 and the usage on stderr", strings.Join(args, " "), code, out.String(), errb.String())
			}
		}
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "usage: hookd <command>") {
			t.Errorf("hookd %s: exit %d, stdout %q", strings.Join(args, " "), code, out.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), nil, &out, &errb); code != 2 || !strings.HasPrefix(errb.String(), "usage: hookd <command>") {
		t.Errorf("hookd: exit %d, stderr %q", code, errb.String())
	}
}

// TestUsageErrors: wrong arguments exit 2 with what was wrong and the
// command's usage on stderr, before anything is contacted or loaded.
func TestUsageErrors(t *testing.T) {
	t.Setenv("HOOKD_TOKEN", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"deliveries", "show"}, "deliveries show: missing ID"},
		{[]string{"deliveries", "show", "x"}, `delivery id "x": must be a positive integer`},
		{[]string{"deliveries", "retry", "0"}, `delivery id "0": must be a positive integer`},
		{[]string{"deliveries", "discard", "1", "2"}, "deliveries discard: unexpected arguments: 2"},
		{[]string{"deliveries", "list", "-limit", "1001"}, `-limit "1001": must be a number from 1 to 1000`},
		{[]string{"deliveries", "list", "-state", "gone"}, `-state "gone" is not one of pending, retrying, delivered, dead, discarded`},
		{[]string{"deliveries", "list", "-since", "yesterday"}, `-since "yesterday": must be a duration back from now (90m, 24h), an RFC 3339 time`},
		{[]string{"deliveries", "list", "-before", "-3"}, `-before "-3": must be a delivery id (a positive integer)`},
		{[]string{"deliveries", "list", "-event-id", strings.Repeat("x", 300)}, "-event-id is 300 bytes long; an EVENT_ID is at most 255"},
		{[]string{"deliveries", "list", "-addr", "ftp://x"}, `-addr "ftp://x": must be http(s)://host:port or host:port`},
		{[]string{"deliveries", "list", "-timeout", "0s"}, "-timeout 0s: must be more than 0"},
		{[]string{"targets", "enable"}, "targets enable: missing NAME"},
		{[]string{"targets", "enable", "t", "-reason", "x"}, "flag provided but not defined: -reason"},
		{[]string{"replay", "-since", "1h"}, "replay: -target NAME is required"},
		{[]string{"replay", "-target", "t"}, "replay: -since WHEN is required"},
		{[]string{"replay", "-target", "t", "-since", "1h", "-state", "delivered"}, `-state "delivered": a replay takes dead, discarded or retrying deliveries`},
		{[]string{"replay", "-target", "t", "-since", "1h", "-batch", "0"}, "-batch 0: must be from 1 to 10000"},
		{[]string{"keys", "generate"}, "keys generate: -out FILE is required"},
		{[]string{"keys", "generate", "-out", "x", "-type", "dsa"}, `-type "dsa" is not supported`},
		{[]string{"plugin", "run", "x.wasm"}, "plugin run: -event EVENT.json is required"},
		{[]string{"check", "extra"}, "check: unexpected arguments: extra"},
		{[]string{"version", "extra"}, "version: unexpected arguments: extra"},
		{[]string{"domains", "get"}, "domains get: missing ID"},
		{[]string{"domains", "put", "42"}, "domains put: missing FILE"},
		{[]string{"domains", "token", "revoke", "42"}, "domains token revoke: missing TOKEN_ID"},
		{[]string{"domains", "token", "create", "42", "-name", "ci", "-ttl", "-1h"}, "-ttl -1h0m0s: must be 0 (never expires) or more"},
		{[]string{"domains", "audit", "42", "-limit", "5000"}, "-limit 5000: must be 1 to 1000"},
		{[]string{"plugin", "versions"}, "plugin versions: -domain ID is required"},
		{[]string{"plugin", "push", "-domain", "42"}, "plugin push: missing FILE.wasm"},
		{[]string{"plugin", "rm", "-domain", "42", "0"}, `VERSION "0": want a version number`},
		{[]string{"plugin", "test", "-domain", "42", "-last", "-1"}, "-last -1: must be 1 to 100"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), tc.want) || !strings.Contains(errb.String(), "usage: hookd") {
			t.Errorf("hookd %s: exit %d, stderr %q; want exit 2, %q and the usage", strings.Join(tc.args, " "), code, errb.String(), tc.want)
		}
	}
}

// TestParseInterspersed: flags may follow arguments, "--" ends the flags.
func TestParseInterspersed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args      []string
		pos       []string
		json      bool
		reasonArg string
	}{
		{[]string{"42", "-json"}, []string{"42"}, true, ""},
		{[]string{"-json", "42"}, []string{"42"}, true, ""},
		{[]string{"a", "-reason", "r", "b"}, []string{"a", "b"}, false, "r"},
		{[]string{"--", "-json"}, []string{"-json"}, false, ""},
		{[]string{"a", "--", "-json", "b"}, []string{"a", "-json", "b"}, false, ""},
		{nil, nil, false, ""},
	} {
		f := newFlags("test")
		asJSON := f.Bool("json", false, "")
		reason := f.String("reason", "", "")
		pos, err := f.parse(tc.args)
		if err != nil || !slices.Equal(pos, tc.pos) || *asJSON != tc.json || *reason != tc.reasonArg {
			t.Errorf("parse %q: %q json=%v reason=%q err=%v; want %q json=%v reason=%q", tc.args, pos, *asJSON, *reason, err, tc.pos, tc.json, tc.reasonArg)
		}
	}
	f := newFlags("test")
	if _, err := f.parse([]string{"x", "-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h after an argument: %v", err)
	}
}

// TestConfigFromEnv: $HOOKD_CONFIG is the default of -config; -config
// still wins.
func TestConfigFromEnv(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, freeAddr(t), "http://127.0.0.1:1/", "")
	t.Setenv("HOOKD_CONFIG", cfg)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"check"}, &out, &errb); code != 0 || !strings.Contains(out.String(), cfg+": ok") {
		t.Errorf("check with $HOOKD_CONFIG: exit %d, %s%s", code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"check", "-config", dir + "/missing.toml"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "missing.toml") {
		t.Errorf("-config over $HOOKD_CONFIG: exit %d, %s%s", code, out.String(), errb.String())
	}
	t.Setenv("HOOKD_CONFIG", "")
	if got := configDefault(); got != "config.toml" {
		t.Errorf("default without $HOOKD_CONFIG: %q", got)
	}
}
