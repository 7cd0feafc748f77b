package runtime

import (
	"path/filepath"

	"errors"
	"fmt"

	"github.com/hookrt/hookd/hook"
)

// fakeHook is a module with a table section, like jwt_webhook.
type fakeHook struct {
	URL     string `toml:"url"`
	Enabled bool   `toml:"enabled"`
	Claims  any    `toml:"claims"` // a table or a string: the module's own business
	Events  struct {
		A bool `toml:"a"`
	} `toml:"events"`
}

func (*fakeHook) Targets() []hook.Target { return nil }

func (f *fakeHook) Validate() error {
	if f.URL == "" {
		return errors.New("url: required")
	}
	return nil
}

// fakeDomains is a module whose section is an array of tables, like
// [[domain]], backed by a slice.
type fakeDomains []struct {
	ID     string `toml:"id"`
	Script string `toml:"script"`
}

func (*fakeDomains) Targets() []hook.Target { return nil }

func (d *fakeDomains) Validate() error {
	var errs []error
	for i, dom := range *d {
		if dom.ID == "" {
			errs = append(errs, fmt.Errorf("[%d] id: required", i))
		}
	}
	return errors.Join(errs...)
}

// testRegistry returns a registry with the fake modules; tests never touch
// a global one.
func testRegistry() *hook.Registry {
	reg := hook.NewRegistry()
	reg.Register(hook.ModuleInfo{ID: "fake_hook", New: func() hook.Module { return new(fakeHook) }})
	reg.Register(hook.ModuleInfo{ID: "fake_domain", New: func() hook.Module { return new(fakeDomains) }})
	return reg
}

// parse parses input as "config.toml" with the test registry.
func parse(input string) (*Config, error) {
	return parseAs("config.toml", []byte(input), testRegistry())
}

// parseAs parses data as the file path, relative paths resolved against
// its directory, with reg's modules (nil: none).
func parseAs(path string, data []byte, reg *hook.Registry) (*Config, error) {
	return parseConfig(path, filepath.Dir(path), data, reg)
}
