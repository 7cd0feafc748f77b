package main

import (
	"io"

	hookrt "github.com/hookrt/hookd/runtime"
)

// configHelp is the usage of `hookd config`.
var configHelp = cmdHelp{
	synopsis: "hookd config [-config FILE]",
	about: "Print the effective config as TOML: every section with its defaults applied (a plugin's\n" +
		"instances = 4, not 0) and its relative paths resolved, as serve runs it, each key followed\n" +
		"by where its value came from: # file, # default or # env HOOKD_<SECTION>_<KEY> (the\n" +
		"environment wins over the file). Secrets are printed as \"<redacted>\": the\n" +
		"password of a URL or of the store's DSN (the rest of it is kept), and the value of any\n" +
		"key or query parameter named like a secret (password, secret, token, api_key, …) or\n" +
		"holding a PEM key. File names (token_file, private_key) are printed as they are. The\n" +
		"admin page shows the same at /admin/config.",
}

// cmdConfig prints the effective config, secrets redacted.
func cmdConfig(args []string, stdout io.Writer) error {
	f := newFlags("config")
	f.help = configHelp
	path := f.String("config", configDefault(), "the config `FILE`; $HOOKD_CONFIG when set")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := f.wantArgs(pos); err != nil {
		return err
	}
	cfg, err := hookrt.LoadConfig(*path)
	if err != nil {
		return err
	}
	out, err := cfg.Redacted()
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}
