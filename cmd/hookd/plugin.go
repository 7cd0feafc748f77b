package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/wasmhost"
	hookrt "github.com/hookrt/hookd/runtime"
)

const pluginUsage = `usage:
  hookd plugin check FILE.wasm
  hookd plugin run FILE.wasm -event EVENT.json [-config config.toml] [-domain ID]
`

// cmdPlugin is the developer loop for WASM plugins.
func cmdPlugin(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) < 2 || (args[0] != "check" && args[0] != "run") {
		return usageError{errors.New(strings.TrimSpace(pluginUsage))}
	}
	if args[0] == "check" {
		return pluginCheck(ctx, args[1], stdout)
	}
	return pluginRun(ctx, args[1], args[2:], stdout)
}

func pluginCheck(ctx context.Context, path string, stdout io.Writer) error {
	b, err := readPluginFile(path)
	if err != nil {
		return err
	}
	if err := wasmhost.Check(ctx, b); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Fprintf(stdout, "%s: ok (ABI %s, %d bytes)\n", path, hostapi.ModuleName, len(b))
	return nil
}

func readPluginFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, wasmhost.MaxBinary+1))
	if err != nil {
		return nil, err
	}
	if len(b) > wasmhost.MaxBinary {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, wasmhost.MaxBinary)
	}
	return b, nil
}

// pluginRun runs one event through a plugin with the real host functions
// and prints the reply, the logs, the host calls and the time taken.
func pluginRun(ctx context.Context, path string, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("hookd plugin run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	eventFile := fs.String("event", "", "a JSON object of the event's fields")
	cfgFile := fs.String("config", "", "a hookd config.toml; the plugin's [[domain]] settings (config, keys, http_allow, limits) apply")
	domainID := fs.String("domain", "", "the [[domain]] to take settings from (default: the one whose script is FILE)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *eventFile == "" {
		return usageError{errors.New("plugin run: -event EVENT.json is required")}
	}
	ev, err := readEvent(*eventFile)
	if err != nil {
		return err
	}
	d := httpevents.Domain{ID: *domainID, Script: path}
	privateDir := ""
	if *cfgFile != "" {
		cfg, err := hookrt.LoadConfig(*cfgFile)
		if err != nil {
			return err
		}
		privateDir = cfg.Storage.PrivateDir
		found, err := findDomain(cfg, path, *domainID)
		if err != nil {
			return err
		}
		d = found
	}
	g, err := d.Grants(privateDir, "hookd/"+hookdVersion())
	if err != nil {
		return err
	}
	eng, err := wasmhost.NewEngine(ctx, wasmhost.Options{})
	if err != nil {
		return err
	}
	defer eng.Close(context.WithoutCancel(ctx))
	loadStart := time.Now()
	p, err := eng.Load(ctx, path, d.Limits(), g)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	loaded := time.Since(loadStart)
	out, callErr := p.Call(ctx, ev)
	fmt.Fprintf(stdout, "plugin:   %s (sha256 %s), loaded in %s\n", path, p.SHA256(), loaded.Round(time.Microsecond))
	fmt.Fprintf(stdout, "event:    %s %s/%s\n", ev.ID, ev.Module(), ev.Name())
	fmt.Fprintf(stdout, "time:     %s\n", out.Duration.Round(time.Microsecond))
	for _, l := range out.Logs {
		fmt.Fprintf(stdout, "log:      [%s %s] %s\n", l.Source, l.Level, l.Text)
	}
	for _, hc := range out.HostCalls {
		fmt.Fprintf(stdout, "hostcall: %s -> %d (%s)\n", hc.Name, hc.Status, hc.Duration.Round(time.Microsecond))
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

func readEvent(path string) (*hook.Event, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var fields map[string]string
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, fmt.Errorf("%s: must be a JSON object of string fields: %w", path, err)
	}
	if fields[hook.FieldEventID] == "" {
		id, _ := uuid.NewV7()
		fields[hook.FieldEventID] = id.String()
	}
	if fields[hook.FieldEvent] != "" {
		fields[hook.FieldEvent] = hook.CanonicalEventName(fields[hook.FieldEvent])
	}
	return &hook.Event{ID: fields[hook.FieldEventID], Fields: fields, Created: time.Now()}, nil
}

// findDomain picks the [[domain]] named id, or the one whose script is path.
func findDomain(cfg *hookrt.Config, path, id string) (httpevents.Domain, error) {
	m, ok := cfg.Modules[httpevents.DomainID]
	if !ok {
		return httpevents.Domain{}, fmt.Errorf("%s has no [[domain]]", cfg.Path)
	}
	abs, _ := filepath.Abs(path)
	for _, d := range *m.(*httpevents.Domains) {
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
