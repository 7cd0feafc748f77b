// Package nodetest runs the Standard Webhooks libraries from npm
// (`standardwebhooks`, `svix`) and Node's own Ed25519 verification against
// what hookd signs, so that hookd's signatures are judged by the
// specification's code rather than by hookd's: internal/delivery's tests
// call Verify, the end-to-end test of cmd/hookd points a target at a
// Receiver.
//
// The npm project is pinned in swh/ (package.json, package-lock.json) and
// embedded in this package with its scripts (verify.mjs, receiver.mjs and
// the checks they share, swh.mjs). It is installed with `npm ci` outside
// the source tree (CI fails when a test leaves a file in it), once per
// user and lock file, into
//
//	$TMPDIR/hookd-test-<uid>/node/
//	  npm-<lock>/              package.json, package-lock.json, node_modules/, .done
//	  npm-<lock>/run-<scripts>/  the .mjs files (node resolves node_modules from the parent)
//	  npm-<lock>.lock          held while installing: one test binary installs, the others wait
//
// <lock> hashes package.json and package-lock.json, so that a new library
// version installs anew; <scripts> hashes the scripts, so that an edit is
// picked up without reinstalling. Installations unused for a week are
// removed.
//
// Without node or npm, or when npm ci fails (no registry), a test that
// needs them skips, unless HOOKD_REQUIRE_NODE=1 (CI), which makes it fail
// instead. It is a test-support package: only tests import it.
package nodetest

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// EnvRequire set to 1 (CI) makes a missing node or npm, or a failed
// install, fail the test instead of skipping it.
const EnvRequire = "HOOKD_REQUIRE_NODE"

const pruneAge = 7 * 24 * time.Hour

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
	if installErr != nil {
		if installSkip && os.Getenv(EnvRequire) != "1" {
			t.Skipf("%v (set %s=1 to make this a failure)", installErr, EnvRequire)
		}
		t.Fatal(installErr)
	}
	return installed
}

// install installs the pinned project into the user's cache, once for
// every test binary of this lock file. skip reports an error that means
// this machine cannot run it (no node, no npm, no registry).
func install() (n *Node, skip bool, err error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, true, errors.New("nodetest: no node on PATH to run the Standard Webhooks libraries with")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return nil, true, errors.New("nodetest: no npm on PATH to install the Standard Webhooks libraries with")
	}
	pkg, err := project.ReadFile("swh/package.json")
	if err != nil {
		return nil, false, err
	}
	lock, err := project.ReadFile("swh/package-lock.json")
	if err != nil {
		return nil, false, err
	}
	sum := sha256.Sum256(append(append(pkg, 0), lock...))
	lockHash := hex.EncodeToString(sum[:8])

	root, err := cacheRoot()
	if err != nil {
		return nil, false, err
	}
	dir := filepath.Join(root, "npm-"+lockHash)
	unlock, err := lockFile(dir + ".lock")
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	done := filepath.Join(dir, ".done")
	if _, err := os.Stat(done); err != nil {
		if err := npmCI(npm, root, dir, pkg, lock); err != nil {
			return nil, true, err
		}
	}
	now := time.Now()
	_ = os.Chtimes(done, now, now) // in use: not to be pruned
	for _, p := range []string{"standardwebhooks", "svix"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", p, "package.json")); err != nil {
			return nil, false, fmt.Errorf("nodetest: npm ci left no %s: %w (remove %s to reinstall)", p, err, dir)
		}
	}
	run, err := writeScripts(dir)
	if err != nil {
		return nil, false, err
	}
	prune(root, dir)
	return &Node{Bin: node, Dir: run}, false, nil
}

// cacheRoot is $TMPDIR/hookd-test-<uid>/node, private to the user.
func cacheRoot() (string, error) {
	parent := filepath.Join(os.TempDir(), "hookd-test-"+strconv.Itoa(os.Getuid()))
	root := filepath.Join(parent, "node")
	for _, d := range []string{parent, root} {
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", err
		}
		if err := checkPrivate(d); err != nil {
			return "", fmt.Errorf("nodetest: cache: %w", err)
		}
	}
	return root, nil
}

// npmCI installs the project into a fresh temporary directory and renames
// it to dir: dir is either absent or complete.
func npmCI(npm, root, dir string, pkg, lock []byte) error {
	tmp, err := os.MkdirTemp(root, "install-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "package.json"), pkg, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "package-lock.json"), lock, 0o600); err != nil {
		return err
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nodetest: npm ci (installing standardwebhooks and svix into %s): %v\n%s", tmp, err, out)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".done"), nil, 0o600); err != nil {
		return err
	}
	_ = os.RemoveAll(dir) // an incomplete one from an older layout
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, ".done")); serr == nil {
			return nil // another test binary got there first (no flock here)
		}
		return err
	}
	return nil
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

// prune removes, best effort, other installations unused for pruneAge
// and what a test binary that died while installing left.
func prune(root, current string) {
	old := time.Now().Add(-pruneAge)
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		if strings.HasPrefix(e.Name(), "install-") { // left by a test binary that died installing
			if fi, err := e.Info(); err == nil && fi.ModTime().Before(old) {
				_ = os.RemoveAll(p)
			}
			continue
		}
		if p == current || !e.IsDir() || !strings.HasPrefix(e.Name(), "npm-") {
			continue
		}
		if fi, err := os.Stat(filepath.Join(p, ".done")); err == nil && fi.ModTime().Before(old) {
			if unlock, err := lockFile(p + ".lock"); err == nil {
				_ = os.RemoveAll(p)
				unlock()
			}
		}
	}
}
