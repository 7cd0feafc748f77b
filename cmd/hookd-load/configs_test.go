package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	hookrt "github.com/hookrt/hookd/runtime"
)

// The scenario configs are hookd configs that load, and each pairs a
// hookd port with the receiver port hookd-load listens on in its comments
// (bench/scripts/system-runs.sh replaces both): sqlite-eddsa-2.toml, the
// second node of the side-by-side RSS row, must not collide with the first.
func TestScenarioConfigsLoad(t *testing.T) {
	files, err := filepath.Glob("configs/*.toml")
	if err != nil || len(files) < 5 {
		t.Fatalf("configs: %v %v", files, err)
	}
	listens := map[string]string{}
	for _, f := range files {
		cfg, err := hookrt.LoadConfig(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		b, _ := os.ReadFile(f)
		recv := "8081"
		if cfg.Server.Listen == "127.0.0.1:7701" {
			recv = "8082"
		}
		if !strings.Contains(string(b), "127.0.0.1:"+recv) || strings.Contains(string(b), map[string]string{"8081": "8082", "8082": "8081"}[recv]) {
			t.Errorf("%s: hookd on %s should send to the receiver on %s only", f, cfg.Server.Listen, recv)
		}
		listens[filepath.Base(f)] = cfg.Server.Listen + " " + cfg.Store.Path
	}
	if a, b := listens["sqlite-eddsa.toml"], listens["sqlite-eddsa-2.toml"]; a == "" || b == "" || strings.Fields(a)[0] == strings.Fields(b)[0] || strings.Fields(a)[1] == strings.Fields(b)[1] {
		t.Errorf("sqlite-eddsa.toml (%s) and sqlite-eddsa-2.toml (%s) must differ in port and store", a, b)
	}
}
