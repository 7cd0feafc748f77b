package runtime

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/hookrt/hookd/builtin"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/config"
)

// LoadConfig reads the config file at path (at most 1 MiB) and parses it
// with the built-in modules, resolving relative paths against the file's
// directory.
//
//	cfg, err := hookrt.LoadConfig("/etc/hookd/config.toml")
//	if err != nil {
//		return err // every line names the file and the key
//	}
//
// # Notes
//
//   - Decoding is strict: an unknown section or key, a wrong type and an
//     invalid value are errors that name the file, the key and what is
//     allowed. Several are joined with [errors.Join], one per line.
//   - Files named by the config (keys, plugins, the DSN file) are read
//     later, by [Open] or [Check].
//   - Every problem is reported, in file order: unknown keys, wrong types
//     and invalid values together.
//   - Environment variables HOOKD_<SECTION>_<KEY> ([EnvPrefix]) set keys
//     over the file; HOOKD_STORE_DSN ([EnvStoreDSN]) is the store's DSN,
//     over the file's dsn and dsn_file. [Config.Source] says where each
//     value came from.
func LoadConfig(path string) (*Config, error) {
	data, err := config.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseConfig(path, filepath.Dir(path), data, builtin.Registry())
}

// LoadConfigAll is [LoadConfig] for a caller that goes on after problems
// in the config, to check what it still can: it returns the config as far
// as it decoded (a key that was wrong keeps its default) together with
// every problem, or nil and the error when the file cannot be read or is
// not TOML. `hookd check` uses it to report, beside the config's own
// problems, those of the files, ports and store that its valid keys name.
// A config returned with problems must not be opened.
func LoadConfigAll(path string) (*Config, error) {
	data, err := config.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, errs := parseConfigAll(path, filepath.Dir(path), data, builtin.Registry(), os.Environ())
	if len(errs) == 0 {
		return c, nil
	}
	var ce *config.Error
	if errors.As(errs[0], &ce) && ce.Line > 0 { // a syntax error: nothing decoded
		return nil, errs[0]
	}
	return c, config.JoinErrors(c.name(), errs)
}

// ParseConfig parses data, the contents of a config file, as [LoadConfig]
// does; relative paths resolve against dir, and errors name the file
// "config.toml".
//
//	cfg, err := hookrt.ParseConfig([]byte("[store]\npath = \"hookd.db\"\n"), "/var/lib/proxy")
func ParseConfig(data []byte, dir string) (*Config, error) {
	return parseConfig("", dir, data, builtin.Registry())
}

// EnvStoreDSN names the environment variable whose value, when set and
// not empty, is the PostgreSQL DSN ([StoreConfig].DSN), over the config
// file's dsn and dsn_file: how a container or a systemd unit passes a
// secret without writing it into the file. It is one case of [EnvPrefix].
const EnvStoreDSN = "HOOKD_STORE_DSN"

// EnvPrefix starts the environment variables that set config keys:
// HOOKD_<SECTION>_<KEY>, upper case, dots as underscores
// (HOOKD_SERVER_LISTEN, HOOKD_DELIVERY_RETRY_SCHEDULE="5s,1m",
// HOOKD_JWT_WEBHOOK_EVENTS_USER_CREATE=true). [LoadConfig] and
// [ParseConfig] apply them over the file: the environment wins, and an
// empty variable is unset. An array of tables ([[domain]]) cannot be set
// this way. Setting store.dsn from the environment also drops the file's
// store.dsn_file. [Config.Source] tells where each value came from.
const EnvPrefix = "HOOKD_"

// parseConfig decodes data strictly with reg's modules over the defaults,
// applies the environment, resolves paths and validates.
func parseConfig(path, dir string, data []byte, reg *hook.Registry) (*Config, error) {
	c, errs := parseConfigAll(path, dir, data, reg, os.Environ())
	if len(errs) > 0 {
		return nil, config.JoinErrors(c.name(), errs)
	}
	return c, nil
}

// parseConfigAll is parseConfig with every problem it can reach: the
// file's unknown keys and wrong types, the environment's, and the invalid
// values of what did decode (a key whose type was wrong is not validated
// again), sorted in file order.
func parseConfigAll(path, dir string, data []byte, reg *hook.Registry, environ []string) (*Config, []error) {
	c := &Config{Path: path, Dir: dir}
	c.withDefaults()
	res, errs := config.DecodeAll(c.name(), data, c, nil, reg)
	if res.Modules == nil { // a syntax error: nothing decoded
		return c, errs
	}
	c.Modules = res.Modules
	c.setSources(res.Sourced, SourceFile)
	c.keys = res.Keys
	env, envErrs := config.FromEnv(EnvPrefix, environ, c, reg)
	for _, s := range env {
		r, serrs := config.DecodeAll(s.File(), s.Doc, c, c.Modules, reg)
		if r.Modules != nil {
			c.Modules = r.Modules
		}
		if len(serrs) > 0 {
			envErrs = append(envErrs, serrs...)
			continue
		}
		c.setSources([]string{s.Key}, s.Var)
		if s.Key == "store.dsn" {
			c.Store.DSNFile = ""
		}
	}
	c.resolvePaths()
	bad := map[string]bool{}
	for _, e := range errs {
		if ce, ok := e.(*config.Error); ok {
			bad[ce.Key()] = true
		}
	}
	for _, e := range c.problems() {
		ce, ok := e.(*config.Error)
		if ok && bad[ce.Key()] {
			continue // its wrong type is reported already
		}
		if ok {
			if src := c.Source(ce.Key()); src != SourceFile && src != SourceDefault {
				ce.File = "environment " + src // the value is the variable's, not the file's
			}
		}
		errs = append(errs, e)
	}
	config.SortErrors(errs, res.Keys)
	return c, append(errs, envErrs...)
}

// name is the file name errors start with.
func (c *Config) name() string {
	if c.Path == "" {
		return "config.toml"
	}
	return c.Path
}
