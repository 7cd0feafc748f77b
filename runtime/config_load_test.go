package runtime

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/config"
)

func TestParseResolvesPaths(t *testing.T) {
	t.Parallel()
	input := "[server]\ntoken_file = 'token'\n[storage]\nprivate_dir = '../keys'\n[store]\npath = '/srv/hookd.db'\n"
	c, err := parseAs("/etc/hookd/config.toml", []byte(input), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, check := range [][2]string{
		{c.Server.TokenFile, "/etc/hookd/token"},
		{c.Storage.PrivateDir, "/etc/keys"},
		{c.Store.Path, "/srv/hookd.db"},
		{c.Resolve("plugins/acme.wasm"), "/etc/hookd/plugins/acme.wasm"},
		{c.Resolve(""), ""},
		{c.Resolve("/abs"), "/abs"},
	} {
		if check[0] != check[1] {
			t.Errorf("got %q, want %q", check[0], check[1])
		}
	}

	// A relative config path keeps relative paths relative to the same
	// working directory.
	c, err = parseAs("conf/config.toml", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join("conf", "private"); c.Storage.PrivateDir != want {
		t.Errorf("private_dir = %q, want %q", c.Storage.PrivateDir, want)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte("[store]\npath = 'hookd.db'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != path || c.Store.Path != filepath.Join(dir, "hookd.db") {
		t.Errorf("Path = %q, store.path = %q", c.Path, c.Store.Path)
	}

	missing := filepath.Join(dir, "missing.toml")
	_, err = LoadConfig(missing)
	if want := missing + ": cannot open: no such file or directory"; err == nil || err.Error() != want {
		t.Errorf("Load(missing) = %v, want %s", err, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(%v, fs.ErrNotExist) = false", err)
	}

	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, []byte(strings.Repeat("#\n", config.MaxSize)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadConfig(big)
	if want := big + ": file is larger than 1048576 bytes (1 MiB)"; err == nil || err.Error() != want {
		t.Errorf("Load(big) = %v, want %s", err, want)
	}
}

func TestListenIsLoopback(t *testing.T) {
	t.Parallel()
	for listen, want := range map[string]bool{
		"127.0.0.1:7700":        true,
		"127.1.2.3:7700":        true,
		"[::1]:7700":            true,
		"[::ffff:127.0.0.1]:80": true,
		"localhost:7700":        true,
		"LOCALHOST:7700":        true,
		"0.0.0.0:7700":          false,
		":7700":                 false,
		"[::]:7700":             false,
		"192.168.1.2:7700":      false,
		"example.com:7700":      false,
		"127.0.0.1":             false, // not host:port
	} {
		c := &Config{Server: ServerConfig{Listen: listen}}
		if got := c.ListenIsLoopback(); got != want {
			t.Errorf("ListenIsLoopback(%q) = %v, want %v", listen, got, want)
		}
	}
}

func TestParseRejectsBadRegistry(t *testing.T) {
	t.Parallel()
	reg := hook.NewRegistry()
	reg.Register(hook.ModuleInfo{ID: "store", New: func() hook.Module { return new(fakeHook) }})
	_, err := parseAs("config.toml", nil, reg)
	if want := `config.toml: module ID "store" is taken by a core section`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}

	reg = hook.NewRegistry()
	reg.Register(hook.ModuleInfo{ID: "nil_hook", New: func() hook.Module { return (*fakeHook)(nil) }})
	_, err = parseAs("config.toml", []byte("[nil_hook]\n"), reg)
	if want := `config.toml: [nil_hook]: module's New must return a non-nil pointer, got *runtime.fakeHook`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}
