package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/hookrt/hookd/internal/secretfile"
	hookrt "github.com/hookrt/hookd/runtime"
)

const usage = `usage: hookd <command> [flags]

commands:
  serve     -config FILE   run the daemon (HTTP API, delivery workers); SIGTERM/SIGINT shut down
                           gracefully, a second one exits at once; SIGHUP reloads plugins
  check     -config FILE [-offline]
                           refuse what serve would refuse, every problem at once (config, token and
                           key files, plugins, ports in use, a store locked or unreachable; -offline
                           skips the ports and PostgreSQL); exit 1 with the errors
  config    -config FILE   print the effective config: defaults applied, secrets "<redacted>", each
                           value marked file, default or env HOOKD_<SECTION>_<KEY>
  keys jwks -config FILE   print the JWK set served at /.well-known/jwks.json
  keys generate -out FILE [-type ed25519|p256|p384|p521|rsa2048|rsa3072|rsa4096]
                           write a new private key (mode 0600) for the JWT webhook
  plugin check FILE.wasm [-config FILE] [-domain ID]
                           load a plugin as serve does (ABI, limits, init, grants); exit 1 with why not
  plugin run FILE.wasm -event EVENT.json [-config FILE] [-domain ID]
                           run one event through a plugin; print reply, logs, host calls, time
  version                  print the version, commit, build date and Go version

talking to a running hookd (-addr URL, default $HOOKD_ADDR or http://127.0.0.1:7700;
token from -token-file FILE or $HOOKD_TOKEN):
  deliveries list [-state S] [-target T] [-event-id ID] [-since D] [-limit N] [-json]
  deliveries show ID [-json]      a delivery with its event and every attempt
  deliveries retry|discard ID     replay one now, or stop retrying it
  targets list [-json]            every target's state, breaker, load, latest error
  targets enable|disable|pause|resume NAME [-reason TEXT]
  replay -target T -since D [-state dead|discarded|retrying]
                                  bulk replay, in rounds, with progress and a summary
  health                          GET /healthz: exit 0 when healthy, 1 if not
  domains list|get|put|delete     domains as data: stored settings, shared by every node
  domains token create|list|revoke ID
                                  a domain owner's token (-name NAME [-ttl D]), shown once
  domains logs|audit|summary ID   a domain's plugin logs, its changes, its deliveries
  plugin push|versions|activate|rm|test -domain ID
                                  a domain's stored plugins: upload, roll back, dry-run
  (a domain token may be the token: it reaches only its own domain)

"hookd help COMMAND" or "hookd COMMAND -h" prints a command's flags. -config defaults
to $HOOKD_CONFIG, else config.toml. Any config key can be set as HOOKD_<SECTION>_<KEY>
(HOOKD_SERVER_LISTEN, HOOKD_DELIVERY_RETRY_SCHEDULE=5s,1m), over the file.
`

// run is main without the process: tests call it directly. It returns
// the exit code: 0, 1 for an error, 2 for a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, args := args[0], args[1:]
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, args, stderr)
	case "check":
		err = cmdCheck(ctx, args, stdout)
	case "config":
		err = cmdConfig(args, stdout)
	case "keys":
		err = group("keys", keysUsage, args, map[string]func([]string) error{
			"jwks":     func(a []string) error { return cmdJWKS(ctx, a, stdout) },
			"generate": func(a []string) error { return cmdKeysGenerate(a, stdout) },
		})
	case "plugin":
		err = cmdPlugin(ctx, args, stdout)
	case "deliveries":
		err = cmdDeliveries(ctx, args, stdout, stderr)
	case "targets":
		err = cmdTargets(ctx, args, stdout)
	case "replay":
		err = cmdReplay(ctx, args, stdout, stderr)
	case "domains":
		err = cmdDomains(ctx, args, stdout, stderr)
	case "health":
		err = cmdHealth(ctx, args, stdout)
	case "version", "-version", "--version":
		err = cmdVersion(args, stdout)
	case "help", "-h", "-help", "--help":
		if len(args) > 0 && !isHelp(args[0]) {
			return run(ctx, append(args, "-h"), stdout, stderr) // hookd help deliveries list
		}
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "hookd: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if h, ok := errors.AsType[helpRequested](err); ok {
		fmt.Fprint(stdout, h.text)
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "hookd:", err)
		var ue usageError
		if errors.As(err, &ue) {
			if u, ok := errors.AsType[usageText](err); ok {
				fmt.Fprint(stderr, "\n", u.text)
			}
			return 2
		}
		return 1
	}
	return 0
}

// usageError is a command used wrongly (exit 2); when it wraps a
// usageText, run prints that command's usage after the error.
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

// keysUsage is the usage of the keys group.
const keysUsage = `usage:
  hookd keys jwks [-config FILE]    print the JWK set served at /.well-known/jwks.json
  hookd keys generate -out FILE [-type ed25519|p256|p384|p521|rsa2048|rsa3072|rsa4096]
                                    write a new private key (mode 0600) for the JWT webhook
`

// loadConfig parses the -config flag of a subcommand (and the flags more
// adds) and loads the file. -config defaults to $HOOKD_CONFIG, else
// config.toml; -h gives the command's usage (see helps).
func loadConfig(name string, args []string, more ...func(*flag.FlagSet)) (*hookrt.Config, error) {
	path, err := configFlag(name, args, more...)
	if err != nil {
		return nil, err
	}
	return hookrt.LoadConfig(path)
}

// configFlag parses the flags of a subcommand that reads the config and
// returns the config file's path (see loadConfig).
func configFlag(name string, args []string, more ...func(*flag.FlagSet)) (string, error) {
	f := newFlags(name)
	path := f.String("config", configDefault(), "the config `FILE`; $HOOKD_CONFIG when set")
	for _, add := range more {
		add(f.FlagSet)
	}
	pos, err := f.parse(args)
	if err != nil {
		return "", err
	}
	if err := f.wantArgs(pos); err != nil {
		return "", err
	}
	return *path, nil
}

// cmdCheck refuses what serve refuses at start, with serve's messages,
// all at once: the config (strictly, every problem in file order), then
// the token file, the modules' key files and plugins (provisioned and
// closed again), the listeners (bound and closed again: a port in use
// fails) and the store (the SQLite file writable and not locked by a
// running hookd, or the PostgreSQL DSN connecting). -offline skips the
// listeners and PostgreSQL, and says so. Warnings (valid but probably not
// meant) and sections that are off are printed and do not fail the check.
func cmdCheck(ctx context.Context, args []string, stdout io.Writer) error {
	var offline bool
	path, err := configFlag("check", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&offline, "offline", false, "skip what depends on this machine and the network: binding the listeners, connecting to PostgreSQL")
	})
	if err != nil {
		return err
	}
	// The config's problems, then serve's preflight for what its valid
	// keys name, then the modules (only of a valid config), as serve meets
	// them.
	cfg, cfgErr := hookrt.LoadConfigAll(path)
	if cfg == nil {
		return cfgErr
	}
	var errs []error
	if cfgErr != nil {
		errs = append(errs, cfgErr)
	}
	pf := &preflight{offline: offline, bad: problemKeys(cfgErr)}
	if err := pf.run(ctx, cfg, slog.New(slog.DiscardHandler)); err != nil {
		errs = append(errs, err)
	}
	pf.close()
	for _, s := range pf.skipped {
		fmt.Fprintln(stdout, "skipped (-offline):", s)
	}
	if cfgErr == nil {
		if _, err := hookrt.Check(ctx, cfg); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(stdout, "warning:", w)
	}
	for _, o := range cfg.Off() {
		fmt.Fprintf(stdout, "note: %s: %s\n", cfg.Path, o)
	}
	fmt.Fprintf(stdout, "%s: ok\n", cfg.Path)
	return nil
}

func cmdJWKS(ctx context.Context, args []string, stdout io.Writer) error {
	cfg, err := loadConfig("keys jwks", args)
	if err != nil {
		return err
	}
	jwks, err := hookrt.Check(ctx, cfg)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", jwks)
	return err
}

// maxToken bounds a bearer token (file or $HOOKD_TOKEN).
const maxToken = 4096

// readToken reads the bearer token file: one token, in a file that only
// its owner may read (like the key files). serve and check both call it.
func readToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	tok, err := readTokenFile(path)
	if err != nil {
		return "", fmt.Errorf("server.token_file: %w", err)
	}
	return tok, nil
}

// readTokenFile reads a file holding one token (secretfile.Read: mode
// 0600, one line); the client's -token-file is read the same way.
func readTokenFile(path string) (string, error) {
	tok, err := secretfile.Read(path, maxToken, "one token (no spaces)")
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(tok, " \t") {
		return "", fmt.Errorf("%s must hold one token (no spaces), got %d bytes", path, len(tok))
	}
	return tok, nil
}
