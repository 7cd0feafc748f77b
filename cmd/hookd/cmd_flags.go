package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Every command follows the same conventions, kept in this file:
//
//   - -h, -help and --help print the command's usage and flags to stdout
//     and exit 0 (helpRequested);
//   - a bad flag or argument prints the error and the usage to stderr and
//     exits 2 (usageError wrapping a usageText);
//   - flags and arguments may come in any order ("hookd deliveries show
//     42 -json"); "--" ends the flags;
//   - HOOKD_CONFIG is the default of -config (configDefault).

// helpRequested is returned for -h: run prints text to stdout, exit 0.
// It matches flag.ErrHelp.
type helpRequested struct{ text string }

func (h helpRequested) Error() string      { return "help requested" }
func (helpRequested) Is(target error) bool { return target == flag.ErrHelp }

// usageText carries the usage of the command whose arguments were wrong,
// for run to print to stderr after the error.
type usageText struct {
	error
	text string
}

func (u usageText) Unwrap() error { return u.error }

// cmdHelp is what a command's usage says: its synopsis line and what it
// does.
type cmdHelp struct{ synopsis, about string }

// helps is the usage of every command whose flags are parsed by
// loadConfig or newFlags, keyed by the command's name ("keys generate").
// A command missing here gets a generic synopsis.
var helps = map[string]cmdHelp{
	"serve": {"hookd serve [-config FILE] [-cpuprofile FILE] [-memprofile FILE]",
		"Run the daemon: the HTTP API on [server] listen, the delivery workers, plugin reloads.\n" +
			"SIGTERM or SIGINT shuts down gracefully (in-flight attempts finish within 15 s or are\n" +
			"released for retry); a second one exits at once. SIGHUP reloads the plugins."},
	"check": {"hookd check [-config FILE] [-offline]",
		"Refuse what serve would refuse at start: the config, the token file, key files, plugins\n" +
			"and the store. Prints warnings; exits 1 with every error."},
	"keys jwks": {"hookd keys jwks [-config FILE]",
		"Print the JWK set served at /.well-known/jwks.json."},
	"keys generate": {"hookd keys generate -out FILE [-type ed25519|p256|p384|p521|rsa2048|rsa3072|rsa4096]",
		"Write a new private key (PKCS #8 PEM, mode 0600) for the JWT webhook."},
	"plugin check": {"hookd plugin check FILE.wasm [-config FILE] [-domain ID]",
		"Load a plugin as serve does (ABI, limits, init, grants); exit 1 with why not.\n" +
			"With -config, the settings of the plugin's [[domain]] apply."},
	"plugin run": {"hookd plugin run FILE.wasm (-event EVENT.json | -signup SIGNUP.json) [-config FILE] [-domain ID]",
		"Run one event (a JSON object of fields) through a plugin, or ask its on_signup about one\n" +
			"sign-up ({\"username\", \"email\", \"fullname\", \"language\", \"domain\"}); print the reply\n" +
			"or the decision, logs, host calls and time."},
	"version": {"hookd version",
		"Print the version, commit, build date and Go version."},
}

// configDefault is the default of -config: $HOOKD_CONFIG, else
// config.toml.
func configDefault() string {
	if p := os.Getenv("HOOKD_CONFIG"); p != "" {
		return p
	}
	return "config.toml"
}

// flagSet is a command's flag.FlagSet with its usage text.
type flagSet struct {
	*flag.FlagSet
	name string
	help cmdHelp
}

// newFlags returns the flags of command name ("deliveries list"), with
// its usage from helps.
func newFlags(name string) *flagSet {
	h, ok := helps[name]
	if !ok {
		h = cmdHelp{synopsis: "hookd " + name + " [flags]"}
	}
	fs := flag.NewFlagSet("hookd "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run prints the usage where it belongs
	return &flagSet{FlagSet: fs, name: name, help: h}
}

// usage is the command's usage text: synopsis, what it does, flags.
func (f *flagSet) usage() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "usage: %s\n", f.help.synopsis)
	if f.help.about != "" {
		fmt.Fprintf(&b, "\n%s\n", f.help.about)
	}
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("\nflags:\n")
		f.SetOutput(&b)
		f.PrintDefaults()
		f.SetOutput(io.Discard)
	}
	return b.String()
}

// parse parses args, flags and arguments in any order, and returns the
// arguments. -h gives a helpRequested, a bad flag a usageError.
func (f *flagSet) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, helpRequested{f.usage()}
			}
			return nil, f.usageErr(err)
		}
		rest := f.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			return append(pos, rest...), nil // "--": no flags after it
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// usageErr is a usage error of this command (exit 2, usage on stderr).
func (f *flagSet) usageErr(err error) error {
	return usageError{usageText{err, f.usage()}}
}

// wantArgs checks that exactly the named arguments were given.
func (f *flagSet) wantArgs(pos []string, names ...string) error {
	if len(pos) == len(names) {
		return nil
	}
	if len(pos) < len(names) {
		return f.usageErr(fmt.Errorf("%s: missing %s", f.name, strings.Join(names[len(pos):], " ")))
	}
	return f.usageErr(fmt.Errorf("%s: unexpected arguments: %s", f.name, strings.Join(pos[len(names):], " ")))
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// group dispatches the subcommands of a group (keys, plugin, deliveries,
// targets): -h prints the group's usage to stdout; a missing or unknown
// subcommand prints it to stderr (exit 2).
func group(name, usage string, args []string, subs map[string]func([]string) error) error {
	if len(args) == 0 {
		return usageError{usageText{fmt.Errorf("%s: which subcommand?", name), usage}}
	}
	if isHelp(args[0]) {
		return helpRequested{usage}
	}
	sub, ok := subs[args[0]]
	if !ok {
		return usageError{usageText{fmt.Errorf("%s: unknown subcommand %q", name, args[0]), usage}}
	}
	return sub(args[1:])
}
