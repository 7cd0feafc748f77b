package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/builtin/wasmscript"
	"github.com/hookrt/hookd/builtin/webapi"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/hostapi"
	"github.com/hookrt/hookd/internal/api"
	"github.com/hookrt/hookd/internal/store"
	hookrt "github.com/hookrt/hookd/runtime"
)

const pluginUsage = `usage:
  hookd plugin check FILE.wasm [-config FILE] [-domain ID]
                           load a plugin as serve does (ABI, limits, init, grants); exit 1 with why not
  hookd plugin run FILE.wasm -event EVENT.json [-config FILE] [-domain ID]
                           run one event through a plugin; print reply, logs, host calls, time
  hookd plugin run FILE.wasm -signup SIGNUP.json [-config FILE] [-domain ID]
                           ask its on_signup about one sign-up; print the decision, logs, host calls

a domain's stored plugins, on a running hookd (-addr, -token-file or $HOOKD_TOKEN: the
operator's token or the domain's own):
  hookd plugin push -domain ID FILE.wasm [-settings FILE] [-activate=false]
                           upload a version, checked as serve would, and run it on every node
  hookd plugin versions -domain ID      the stored versions, the active one marked
  hookd plugin activate -domain ID N    run version N on every node (a rollback: an older one)
  hookd plugin rm -domain ID N          delete a version that is not active
  hookd plugin test -domain ID [-module FILE.wasm | -version N] [-events FILE.json | -last N]
                    [-signups FILE.json]
                           dry run on the server: what each event would become, what each sign-up
                           its on_signup would decide; nothing delivered, nothing stored

Run "hookd plugin <subcommand> -h" for the flags.
`

// cmdPlugin is the developer loop for WASM plugins, and a domain's stored
// plugins on a running hookd (cmd_pluginremote.go). check and run load
// the plugin exactly as `hookd serve` does (wasmscript.Host.Load, with the
// [[domain]] settings of -config when given), so that check refuses what
// serve refuses.
//
// Unlike the other commands, -config does not default to $HOOKD_CONFIG
// here: it is optional and selects the plugin's [[domain]], so a default
// would refuse a plugin that is not in that config yet.
func cmdPlugin(ctx context.Context, args []string, stdout io.Writer) error {
	return group("plugin", pluginUsage, args, map[string]func([]string) error{
		"check":    func(a []string) error { return pluginCmd(ctx, "check", a, stdout) },
		"run":      func(a []string) error { return pluginCmd(ctx, "run", a, stdout) },
		"push":     func(a []string) error { return pluginPush(ctx, a, stdout) },
		"versions": func(a []string) error { return pluginVersions(ctx, a, stdout) },
		"activate": func(a []string) error { return pluginVersionAction(ctx, "activate", a, stdout) },
		"rm":       func(a []string) error { return pluginVersionAction(ctx, "rm", a, stdout) },
		"test":     func(a []string) error { return pluginTest(ctx, a, stdout) },
	})
}

// pluginCmd runs hookd plugin check|run.
func pluginCmd(ctx context.Context, sub string, args []string, stdout io.Writer) error {
	f := newFlags("plugin " + sub)
	cfgFile := f.String("config", "", "a hookd config.toml `FILE`; the plugin's [[domain]] settings (limits, config, keys, http_allow) apply")
	domainID := f.String("domain", "", "the [[domain]] `ID` to take settings from (default: the one whose script is FILE)")
	eventFile, signupFile := new(string), new(string)
	if sub == "run" {
		eventFile = f.String("event", "", "`EVENT.json`: a JSON object of the event's fields (this or -signup is required)")
		signupFile = f.String("signup", "", "`SIGNUP.json`: a sign-up to ask the plugin's on_signup about, {\"username\", \"email\", \"fullname\", \"language\", \"domain\"}")
	}
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := f.wantArgs(pos, "FILE.wasm"); err != nil {
		return err
	}
	path := pos[0]
	switch {
	case sub == "run" && *eventFile == "" && *signupFile == "":
		return f.usageErr(errors.New("plugin run: -event EVENT.json is required, or -signup SIGNUP.json"))
	case *eventFile != "" && *signupFile != "":
		return f.usageErr(errors.New("plugin run: -event and -signup: give one (an event, or a sign-up)"))
	}
	var ev *hook.Event
	var signup []hook.DryRunSignup
	if *signupFile != "" {
		if signup, err = readSignups(*signupFile, f); err != nil {
			return err
		}
		if len(signup) != 1 {
			return f.usageErr(fmt.Errorf("-signup %s: want one sign-up, got %d (hookd plugin test -signups takes many)", *signupFile, len(signup)))
		}
	} else if sub == "run" {
		var err error
		if ev, err = readEvent(*eventFile); err != nil {
			return err
		}
	}
	spec, privateDir, language, err := pluginSpec(path, *cfgFile, *domainID)
	if err != nil {
		return err
	}
	// state = true: a store in memory, empty at each run, with the limits
	// of the config (hookd serve keeps state in its store).
	spec.Settings = spec.Settings.WithState(store.NewMemoryState(), spec.Domain)
	host, err := wasmscript.NewHost(ctx, wasmscript.HostOptions{PrivateDir: privateDir, UserAgent: "hookd/" + hookdVersion()})
	if err != nil {
		return err
	}
	defer host.Close()
	if signup != nil {
		signup[0].Language = language(signup[0].Language)
		return runSignup(ctx, stdout, host, spec, signup[0])
	}
	start := time.Now()
	sc, err := host.Load(ctx, spec)
	if err != nil {
		return err
	}
	loaded := time.Since(start)
	if sub == "check" {
		pinned := ""
		if spec.Settings.SHA256 != "" {
			pinned = " (pinned)"
		}
		fmt.Fprintf(stdout, "%s: ok (ABI %s, sha256 %s%s, instances started in %s)\n", path, hostapi.ModuleName,
			sc.SHA256()[:12], pinned, loaded.Round(time.Millisecond))
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

// runSignup asks the plugin's on_signup about su, as a dry run does (a
// plugin of its own, one instance, state in memory; its HTTP calls made
// where its allow-list permits, as plugin run makes an event's), and
// prints the decision. Exit 1 when it could not decide.
func runSignup(ctx context.Context, stdout io.Writer, host *wasmscript.Host, spec wasmscript.Spec, su hook.DryRunSignup) error {
	if su.Domain == "" {
		su.Domain = spec.Domain
	}
	rep, err := host.DryRunReport(ctx, spec, wasmscript.DryRunInput{Signups: []hook.DryRunSignup{su}, Live: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "plugin:   %s\n", spec.Path)
	printSignups(stdout, rep.Signups)
	if len(rep.Signups) == 1 && rep.Signups[0].Decision == hook.DryRunError {
		return errors.New("plugin run: the plugin could not decide the sign-up (the daemon would refuse it as unavailable)")
	}
	return nil
}

// pluginSpec is what to load: the file with default settings, or the
// settings of its [[domain]] in cfgFile; the private directory keys are
// read from; and the language rule of a live sign-up (the [webapi]
// language of cfgFile, or the default), so that -signup asks the plugin
// in the language the daemon would.
func pluginSpec(path, cfgFile, domainID string) (spec wasmscript.Spec, privateDir string, language func(string) string, err error) {
	d := httpevents.Domain{ID: domainID, Script: path}
	if cfgFile == "" {
		var none *webapi.Service // the default language
		return d.Spec(func(p string) string { return p }, true), "", none.SignupLanguage, nil
	}
	cfg, err := hookrt.LoadConfig(cfgFile)
	if err != nil {
		return wasmscript.Spec{}, "", nil, err
	}
	d, err = findDomain(cfg, path, domainID)
	if err != nil {
		return wasmscript.Spec{}, "", nil, err
	}
	wa, _ := cfg.Modules[webapi.ID].(*webapi.Service) // nil without [webapi]: the default language
	strict := true
	if d.Strict != nil {
		strict = *d.Strict
	}
	return d.Spec(func(p string) string { return p }, strict), cfg.Storage.PrivateDir, wa.SignupLanguage, nil
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
