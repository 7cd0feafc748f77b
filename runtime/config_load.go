package runtime

import (
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
//   - The environment variable HOOKD_STORE_DSN ([EnvStoreDSN]), when set,
//     is the store's DSN, over the file's dsn and dsn_file.
func LoadConfig(path string) (*Config, error) {
	data, err := config.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseConfig(path, filepath.Dir(path), data, builtin.Registry())
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
// secret without writing it into the file.
const EnvStoreDSN = "HOOKD_STORE_DSN"

// parseConfig decodes data strictly with reg's modules over the defaults,
// applies the environment, resolves paths and validates.
func parseConfig(path, dir string, data []byte, reg *hook.Registry) (*Config, error) {
	c := &Config{Path: path, Dir: dir}
	c.withDefaults()
	mods, err := config.Decode(c.name(), data, c, reg)
	if err != nil {
		return nil, err
	}
	c.Modules = mods
	if dsn := os.Getenv(EnvStoreDSN); dsn != "" {
		c.Store.DSN, c.Store.DSNFile = dsn, ""
	}
	c.resolvePaths()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// name is the file name errors start with.
func (c *Config) name() string {
	if c.Path == "" {
		return "config.toml"
	}
	return c.Path
}
