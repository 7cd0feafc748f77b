package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/api"
	hookrt "github.com/hookrt/hookd/runtime"
)

const pluginUsage = `usage:
  hookd plugin check FILE.wasm [-config FILE] [-domain ID]
  hookd plugin run FILE.wasm -event EVENT.json [-config FILE] [-domain ID]
`

// cmdPlugin is the developer loop for WASM plugins. Both subcommands load
// the plugin exactly as `hookd serve` does (wasmscript.Host.Load, with the
// [[domain]] settings of -config when given), so that check refuses what
// serve refuses.
func cmdPlugin(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) < 2 || (args[0] != "check" && args[0] != "run") || strings.HasPrefix(args[1], "-") {
		return usageError{errors.New(strings.TrimSpace(pluginUsage))}
	}
	sub, path := args[0], args[1]
	fs := flag.NewFlagSet("hookd plugin "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfgFile := fs.String("config", "", "a hookd config.toml; the plugin's [[domain]] settings (limits, config, keys, http_allow) apply")
	domainID := fs.String("domain", "", "the [[domain]] to take settings from (default: the one whose script is FILE)")
	eventFile := new(string)
	if sub == "run" {
		eventFile = fs.String("event", "", "a JSON object of the event's fields")
	}
	if err := fs.Parse(args[2:]); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("plugin %s: unexpected arguments: %s", sub, strings.Join(fs.Args(), " "))}
	}
	if sub == "run" && *eventFile == "" {
		return usageError{errors.New("plugin run: -event EVENT.json is required")}
	}
	var ev *hook.Event
	if sub == "run" {
		var err error
		if ev, err = readEvent(*eventFile); err != nil {
			return err
		}
	}
	spec, privateDir, err := pluginSpec(path, *cfgFile, *domainID)
	if err != nil {
		return err
	}
	host, err := wasmscript.NewHost(ctx, wasmscript.HostOptions{PrivateDir: privateDir, UserAgent: "hookd/" + hookdVersion()})
	if err != nil {
		return err
	}
	defer host.Close()
	start := time.Now()
	sc, err := host.Load(ctx, spec)
	if err != nil {
		return err
	}
	loaded := time.Since(start)
	if sub == "check" {
		fmt.Fprintf(stdout, "%s: ok (ABI %s, sha256 %s, instances started in %s)\n", path, hostapi.ModuleName,
			sc.SHA256()[:12], loaded.Round(time.Millisecond))
		return nil
	}
	return printRun(ctx, stdout, sc, ev, loaded)
}

// printRun runs one event through the plugin and prints the reply, the
// logs, the host calls and the time taken.
func printRun(ctx context.Context, stdout io.Writer, sc *wasmscript.Script, ev *hook.Event, loaded time.Duration) error {
	out, callErr := sc.Call(ctx, ev)
	fmt.Fprintf(stdout, "plugin:   %s (sha256 %s), loaded in %s\n", sc.Path(), sc.SHA256(), loaded.Round(time.Microsecond))
	fmt.Fprintf(stdout, "event:    %s %s/%s\n", ev.ID, ev.Module(), ev.Name())
	fmt.Fprintf(stdout, "time:     %s\n", out.Duration.Round(time.Microsecond))
	for _, l := range out.Logs {
		fmt.Fprintf(stdout, "log:      [%s %s] %s\n", l.Source, hostapi.LevelName(l.Level), l.Text)
	}
	for _, hc := range out.HostCalls {
		fmt.Fprintf(stdout, "hostcall: %s -> %s (%s)\n", hc.Name, hostapi.StatusName(hc.Status), hc.Duration.Round(time.Microsecond))
	}
	if callErr != nil {
		fmt.Fprintf(stdout, "result:   error: %v\n", callErr)
		return fmt.Errorf("plugin call failed: %w", callErr)
	}
	fmt.Fprintf(stdout, "status:   %d\n", out.Status)
	if out.Error != "" {
		fmt.Fprintf(stdout, "error:    %s\n", out.Error)
	}
	reply := string(out.Reply)
	if reply == "" {
		reply = "(none: <nomessage/>)"
	}
	fmt.Fprintf(stdout, "reply:    %s\n", reply)
	if out.Status != hostapi.StatusHandled {
		return fmt.Errorf("plugin answered status %d", out.Status)
	}
	return nil
}

// pluginSpec is what to load: the file with default settings, or the
// settings of its [[domain]] in cfgFile; and the private directory keys
// are read from.
func pluginSpec(path, cfgFile, domainID string) (wasmscript.Spec, string, error) {
	d := httpevents.Domain{ID: domainID, Script: path}
	if cfgFile == "" {
		return d.Spec(func(p string) string { return p }, true), "", nil
	}
	cfg, err := hookrt.LoadConfig(cfgFile)
	if err != nil {
		return wasmscript.Spec{}, "", err
	}
	d, err = findDomain(cfg, path, domainID)
	if err != nil {
		return wasmscript.Spec{}, "", err
	}
	strict := true
	if d.Strict != nil {
		strict = *d.Strict
	}
	return d.Spec(func(p string) string { return p }, strict), cfg.Storage.PrivateDir, nil
}

// readEvent reads a JSON object of event fields, checked by the same rule
// as POST /v1/events and Emit (hook.NewEvent). An EVENT_ID in the file is
// kept, so that a run can reproduce a delivery.
func readEvent(path string) (*hook.Event, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	fields, err := api.ParseFields("application/json", b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	id := fields[hook.FieldEventID]
	delete(fields, hook.FieldEventID)
	ev, err := hook.NewEvent(fields, time.Now(), "hookd-plugin-run")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if id != "" {
		ev.ID, ev.Fields[hook.FieldEventID] = id, id
	}
	return ev, nil
}

// findDomain picks the [[domain]] named id, or the one whose script is path.
func findDomain(cfg *hookrt.Config, path, id string) (httpevents.Domain, error) {
	domains := httpevents.DomainsOf(cfg.Modules)
	if len(domains) == 0 {
		return httpevents.Domain{}, fmt.Errorf("%s has no [[domain]]", cfg.Path)
	}
	abs, _ := filepath.Abs(path)
	for _, d := range domains {
		script, _ := filepath.Abs(cfg.Resolve(d.Script))
		if (id != "" && d.ID == id) || (id == "" && script == abs) {
			d.Script = path
			return d, nil
		}
	}
	if id != "" {
		return httpevents.Domain{}, fmt.Errorf("%s has no [[domain]] with id %q", cfg.Path, id)
	}
	return httpevents.Domain{}, fmt.Errorf("%s has no [[domain]] whose script is %s; name one with -domain", cfg.Path, path)
}
