// Package npmcache installs a pinned npm project (package.json and
// package-lock.json) for tests, outside the source tree (CI fails when a
// test leaves a file in it), once per user and lock file, into
//
//	$TMPDIR/hookd-test-<uid>/<cache>/
//	  npm-<lock>/      package.json, package-lock.json, node_modules/, .done
//	  npm-<lock>.lock  held while installing: one test binary installs, the others wait
//	  install-*/       npm ci runs here, then is renamed to npm-<lock>: that is absent or complete
//
// <lock> hashes package.json and package-lock.json, so that a new version
// installs anew. Installations unused for a week are removed. The
// Standard Webhooks libraries (internal/testsupport/nodetest) and the
// AssemblyScript compiler (plugins/pdk-as) are installed by it: one
// policy for both. It is a test-support package: only tests import it.
package npmcache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/testsupport/filelock"
)

// PruneAge is how long an installation (or anything else in a cache
// directory its user prunes) may go unused before it is removed.
const PruneAge = 7 * 24 * time.Hour

// Project is an npm project to install.
type Project struct {
	Cache    string   // the directory under $TMPDIR/hookd-test-<uid>: "node", "asc"
	Package  []byte   // package.json
	Lock     []byte   // package-lock.json
	Who      string   // the prefix of errors: "nodetest", "pdk-as"
	What     string   // what is installed, for errors: "the AssemblyScript compiler"
	Requires []string // files npm ci must leave, relative to the installation
}

// Installed is an installed project.
type Installed struct {
	Node string // the node binary
	Root string // $TMPDIR/hookd-test-<uid>/<cache>, private to the user
	Dir  string // Root/npm-<Hash>: package.json, node_modules/
	Hash string // the hash of package.json and package-lock.json
}

// Install installs p unless it is installed already, and returns where.
// skip reports an error that means this machine cannot run it (no node,
// no npm, no registry), which a test turns into a skip with [Require].
func Install(p Project) (in *Installed, skip bool, err error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, true, fmt.Errorf("%s: no node on PATH to run %s with", p.Who, p.What)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return nil, true, fmt.Errorf("%s: no npm on PATH to install %s with", p.Who, p.What)
	}
	sum := sha256.Sum256(append(append(append([]byte(nil), p.Package...), 0), p.Lock...))
	hash := hex.EncodeToString(sum[:8])
	root, err := cacheRoot(p.Cache)
	if err != nil {
		return nil, false, fmt.Errorf("%s: cache: %w", p.Who, err)
	}
	dir := filepath.Join(root, "npm-"+hash)
	unlock, err := lock(dir + ".lock")
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	done := filepath.Join(dir, ".done")
	if _, err := os.Stat(done); err != nil {
		if err := npmCI(p, npm, root, dir); err != nil {
			return nil, true, err
		}
	}
	now := time.Now()
	_ = os.Chtimes(done, now, now) // in use: not to be pruned
	for _, f := range p.Requires {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return nil, false, fmt.Errorf("%s: npm ci left no %s: %w (remove %s to reinstall)", p.Who, f, err, dir)
		}
	}
	prune(root, dir)
	return &Installed{Node: node, Root: root, Dir: dir, Hash: hash}, false, nil
}

// Require fails t with err, or skips it when skip (this machine cannot
// run it) and env is not set to 1 (CI sets it, so that a missing tool is
// a failure there). Nothing happens when err is nil.
func Require(t testing.TB, env string, skip bool, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if skip && os.Getenv(env) != "1" {
		t.Skipf("%v (set %s=1 to make this a failure)", err, env)
	}
	t.Fatal(err)
}

// cacheRoot is $TMPDIR/hookd-test-<uid>/<cache>, private to the user.
func cacheRoot(cache string) (string, error) {
	parent := filepath.Join(os.TempDir(), "hookd-test-"+strconv.Itoa(os.Getuid()))
	root := filepath.Join(parent, cache)
	for _, d := range []string{parent, root} {
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", err
		}
		if err := filelock.CheckPrivate(d); err != nil && !errors.Is(err, filelock.ErrNoLock) {
			return "", err
		}
	}
	return root, nil
}

// lock is [filelock.Lock], a no-op without flock: test binaries do not
// coordinate there, each may run npm ci into its own temporary directory
// and rename it into place (see npmCI).
func lock(path string) (unlock func(), err error) {
	unlock, err = filelock.Lock(path)
	if errors.Is(err, filelock.ErrNoLock) {
		return func() {}, nil
	}
	return unlock, err
}

// npmCI installs the project into a fresh temporary directory and renames
// it to dir: dir is either absent or complete.
func npmCI(p Project, npm, root, dir string) error {
	tmp, err := os.MkdirTemp(root, "install-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "package.json"), p.Package, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "package-lock.json"), p.Lock, 0o600); err != nil {
		return err
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error")
	cmd.Dir = tmp
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: npm ci (installing %s into %s): %v\n%s", p.Who, p.What, tmp, err, out)
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

// prune removes, best effort, other installations unused for PruneAge and
// what a test binary that died while installing left. Other entries of
// root are its user's to prune.
func prune(root, current string) {
	old := time.Now().Add(-PruneAge)
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		switch {
		case p == current || !e.IsDir():
		case strings.HasPrefix(e.Name(), "install-"): // left by a test binary that died installing
			if fi, err := e.Info(); err == nil && fi.ModTime().Before(old) {
				_ = os.RemoveAll(p)
			}
		case strings.HasPrefix(e.Name(), "npm-"):
			if fi, err := os.Stat(filepath.Join(p, ".done")); err == nil && fi.ModTime().Before(old) {
				if unlock, err := lock(p + ".lock"); err == nil {
					_ = os.RemoveAll(p)
					unlock()
				}
			}
		}
	}
}
