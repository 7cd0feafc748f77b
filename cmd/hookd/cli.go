package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	hookrt "github.com/hookrt/hookd/runtime"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version from the build info is used.
var version = ""

func hookdVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

const usage = `usage: hookd <command> [flags]

commands:
  serve     -config FILE   run the daemon (HTTP API, delivery workers)
  check     -config FILE [-offline]
                           refuse what serve would refuse (config, token and key files, plugins,
                           the store; -offline skips the PostgreSQL connection); exit 1 with the errors
  keys jwks -config FILE   print the JWK set served at /.well-known/jwks.json
  keys generate -out FILE [-type ed25519|p256|p384|p521|rsa2048|rsa3072|rsa4096]
                           write a new private key (mode 0600) for the JWT webhook
  plugin check FILE.wasm [-config FILE] [-domain ID]
                           load a plugin as serve does (ABI, limits, init, grants); exit 1 with why not
  plugin run FILE.wasm -event EVENT.json [-config FILE] [-domain ID]
                           run one event through a plugin; print reply, logs, host calls, time
  version                  print the version
`

// run is main without the process: tests call it directly.
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
	case "keys":
		switch {
		case len(args) > 0 && args[0] == "jwks":
			err = cmdJWKS(ctx, args[1:], stdout)
		case len(args) > 0 && args[0] == "generate":
			err = cmdKeysGenerate(args[1:], stdout)
		default:
			fmt.Fprint(stderr, "usage: hookd keys jwks -config FILE | hookd keys generate -out FILE [-type ed25519]\n")
			return 2
		}
	case "plugin":
		err = cmdPlugin(ctx, args, stdout)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "hookd", hookdVersion())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "hookd: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "hookd:", err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

type usageError struct{ error }

// loadConfig parses the -config flag of a subcommand (and the flags more
// adds) and loads the file.
func loadConfig(name string, args []string, more ...func(*flag.FlagSet)) (*hookrt.Config, error) {
	fs := flag.NewFlagSet("hookd "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("config", "config.toml", "the config file")
	for _, add := range more {
		add(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	return hookrt.LoadConfig(*path)
}

// cmdCheck refuses what serve refuses at start: the config (strictly),
// the token file, the modules' key files and plugins (provisioned and
// closed again), and, unless -offline, the store's reachability. Warnings
// (valid but probably not meant) are printed and do not fail the check.
func cmdCheck(ctx context.Context, args []string, stdout io.Writer) error {
	var offline bool
	cfg, err := loadConfig("check", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&offline, "offline", false, "skip the checks that need the network (the PostgreSQL DSN)")
	})
	if err != nil {
		return err
	}
	if _, err := readToken(cfg.Server.TokenFile); err != nil {
		return fmt.Errorf("%s: %w", cfg.Path, err)
	}
	if _, err := hookrt.Check(ctx, cfg); err != nil {
		return err
	}
	if !offline || cfg.Store.Driver != hookrt.DriverPostgres {
		if err := hookrt.CheckStore(ctx, cfg); err != nil {
			return err
		}
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(stdout, "warning:", w)
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

// readToken reads the bearer token file: one token, in a file that only
// its owner may read (like the key files). serve and check both call it.
func readToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("server.token_file: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return "", fmt.Errorf("server.token_file: %w", err)
	} else if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return "", fmt.Errorf("server.token_file: %s is readable by group or others (mode %04o); chmod 600 it", path, perm)
	}
	b, err := io.ReadAll(io.LimitReader(f, 4097))
	if err != nil {
		return "", fmt.Errorf("server.token_file: %w", err)
	}
	if len(b) > 4096 {
		return "", fmt.Errorf("server.token_file: %s is larger than 4 KiB; it should hold one token", path)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("server.token_file: %s must hold one token (no spaces), got %d bytes", path, len(tok))
	}
	return tok, nil
}
