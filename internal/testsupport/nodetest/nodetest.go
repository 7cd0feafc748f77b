// Package nodetest runs the Standard Webhooks libraries from npm
// (`standardwebhooks`, `svix`) and Node's own Ed25519 verification against
// what hookd signs, so that hookd's signatures are judged by the
// specification's code rather than by hookd's: internal/delivery's tests
// call Verify, the end-to-end test of cmd/hookd points a target at a
// Receiver.
//
// The npm project is pinned in swh/ (package.json, package-lock.json) and
// embedded in this package with its scripts (verify.mjs, receiver.mjs and
// the checks they share, swh.mjs). It is installed by
// internal/testsupport/npmcache into $TMPDIR/hookd-test-<uid>/node/npm-<lock>/,
// and the scripts are written beside node_modules, into
// npm-<lock>/run-<scripts>/ (node resolves node_modules from the parent):
// <scripts> hashes them, so that an edit is picked up without
// reinstalling.
//
// Without node or npm, or when npm ci fails (no registry), a test that
// needs them skips, unless HOOKD_REQUIRE_NODE=1 (CI), which makes it fail
// instead. It is a test-support package: only tests import it.
package nodetest

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hookrt/hookd/internal/testsupport/npmcache"
)

// EnvRequire set to 1 (CI) makes a missing node or npm, or a failed
// install, fail the test instead of skipping it.
const EnvRequire = "HOOKD_REQUIRE_NODE"

//go:embed swh/package.json swh/package-lock.json swh/*.mjs
var project embed.FS

// Node is the installed project: the node binary and the directory of the
// scripts, whose imports resolve to the pinned libraries.
type Node struct {
	Bin string // the node binary
	Dir string // the directory holding verify.mjs, receiver.mjs, swh.mjs
}

// Script returns the path of one of the project's scripts ("verify.mjs").
func (n *Node) Script(name string) string { return filepath.Join(n.Dir, name) }

var (
	installOnce sync.Once
	installed   *Node
	installErr  error
	installSkip bool // installErr means "cannot run here", not "broken"
)

// Install returns the installed project, installing it on first use; it
// skips t (or fails it, with HOOKD_REQUIRE_NODE=1) when that is
// impossible here.
func Install(t testing.TB) *Node {
	t.Helper()
	installOnce.Do(func() { installed, installSkip, installErr = install() })
	npmcache.Require(t, EnvRequire, installSkip, installErr)
	return installed
}

// install installs the pinned project with npmcache, once for every test
// binary of this lock file, and writes the scripts beside it. skip reports
// an error that means this machine cannot run it (no node, no npm, no
// registry).
func install() (n *Node, skip bool, err error) {
	pkg, err := project.ReadFile("swh/package.json")
	if err != nil {
		return nil, false, err
	}
	lock, err := project.ReadFile("swh/package-lock.json")
	if err != nil {
		return nil, false, err
	}
	in, skip, err := npmcache.Install(npmcache.Project{
		Cache: "node", Package: pkg, Lock: lock,
		Who: "nodetest", What: "the Standard Webhooks libraries",
		Requires: []string{"node_modules/standardwebhooks/package.json", "node_modules/svix/package.json"},
	})
	if err != nil {
		return nil, skip, err
	}
	run, err := writeScripts(in.Dir)
	if err != nil {
		return nil, false, err
	}
	return &Node{Bin: in.Node, Dir: run}, false, nil
}

// writeScripts writes the embedded scripts into dir/run-<hash> unless they
// are there already, and returns that directory.
func writeScripts(dir string) (string, error) {
	names, err := fs.Glob(project, "swh/*.mjs")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	files := map[string][]byte{}
	for _, name := range names {
		b, err := project.ReadFile(name)
		if err != nil {
			return "", err
		}
		files[path.Base(name)] = b
		fmt.Fprintf(h, "%s\x00%d\x00", path.Base(name), len(b))
		h.Write(b)
	}
	run := filepath.Join(dir, "run-"+hex.EncodeToString(h.Sum(nil)[:8]))
	if _, err := os.Stat(run); err == nil {
		return run, nil
	}
	tmp, err := os.MkdirTemp(dir, "run-tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o600); err != nil {
			return "", err
		}
	}
	if err := os.Rename(tmp, run); err != nil {
		if _, serr := os.Stat(run); serr == nil {
			return run, nil
		}
		return "", err
	}
	return run, nil
}
