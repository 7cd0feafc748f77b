package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// TestStoreDSNSources: the PostgreSQL DSN comes from store.dsn, from a
// store.dsn_file kept to its owner, or from HOOKD_STORE_DSN over both; a
// DSN file others may read is refused by Check as by Open.
func TestStoreDSNSources(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(hookrt.EnvStoreDSN, "")
	cfg, err := hookrt.ParseConfig([]byte("[store]\ndriver = 'postgres'\ndsn_file = 'dsn'\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store.DSNFile != filepath.Join(dir, "dsn") {
		t.Errorf("dsn_file = %q, want it resolved against the config's directory", cfg.Store.DSNFile)
	}

	t.Setenv(hookrt.EnvStoreDSN, "postgres://from-env/db")
	env, err := hookrt.ParseConfig([]byte("[store]\ndriver = 'postgres'\ndsn_file = 'dsn'\n"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if env.Store.DSN != "postgres://from-env/db" || env.Store.DSNFile != "" {
		t.Errorf("with %s set: dsn %q, dsn_file %q", hookrt.EnvStoreDSN, env.Store.DSN, env.Store.DSNFile)
	}

	ctx := context.Background()
	if err := os.WriteFile(filepath.Join(dir, "dsn"), []byte("postgres://u:pw@h/db\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := hookrt.Check(ctx, cfg); err == nil || !strings.Contains(err.Error(), "readable by group or others") {
		t.Errorf("Check with a 0644 DSN file: %v", err)
	}
	if _, err := hookrt.Open(ctx, cfg, hookrt.WithoutWorkers()); err == nil || !strings.Contains(err.Error(), "store.dsn_file") {
		t.Errorf("Open with a 0644 DSN file: %v", err)
	}

	// A real server, through the file.
	st := storetest.Postgres(t)
	if err := os.WriteFile(filepath.Join(dir, "dsn"), []byte(st.DSN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "dsn"), 0o600); err != nil {
		t.Fatal(err)
	}
	rt, err := hookrt.Open(ctx, cfg, hookrt.WithoutWorkers())
	if err != nil {
		t.Fatalf("Open with a DSN file: %v", err)
	}
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
