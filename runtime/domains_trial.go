package runtime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"

	"github.com/hookrt/hookd/builtin/httpevents"
	"github.com/hookrt/hookd/hook"
)

// Handing the trial build to the watcher
//
// A change is judged by building the domain as it will run (check). A
// change that activates a plugin version is applied on this node before
// the call returns (syncNow), which builds the domain again: for a
// Go-built plugin that means starting its instances twice (each runs the
// Go runtime's initialisation), the larger part of an activation once the
// code is compiled. So a check that precedes an activation keeps its
// build here, under what it runs, and the watcher's build of the same
// domain, with the same settings and module, takes it instead of
// building; the caller closes it if it was not taken (the write failed,
// or another change came first).

// trialBuild is a check's build, kept for the watcher.
type trialBuild struct {
	target hook.Target
	closer func(context.Context) error
}

// trials are the builds kept, by buildKey.
type trials struct {
	mu sync.Mutex
	m  map[string]trialBuild
}

// buildKey says what a build of d runs: its settings (JSON; the module
// itself is not in it) and its module's SHA-256.
func buildKey(d httpevents.Domain) (string, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(d.Module)
	return string(b) + "\x00" + hex.EncodeToString(sum[:]), nil
}

// keep keeps a build under key, closing one kept there before (two
// identical changes at once: the later build serves).
func (t *trials) keep(ctx context.Context, key string, b trialBuild) {
	t.mu.Lock()
	old, had := t.m[key]
	if t.m == nil {
		t.m = map[string]trialBuild{}
	}
	t.m[key] = b
	t.mu.Unlock()
	if had {
		_ = old.closer(context.WithoutCancel(ctx))
	}
}

// take returns the build kept under key and forgets it.
func (t *trials) take(key string) (trialBuild, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b, ok := t.m[key]
	delete(t.m, key)
	return b, ok
}

// drop closes the build kept under key if the watcher did not take it.
func (t *trials) drop(ctx context.Context, key string) error {
	if b, ok := t.take(key); ok {
		return b.closer(context.WithoutCancel(ctx))
	}
	return nil
}
