package pdkas_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/testsupport/npmcache"
)

// Building AssemblyScript plugins in tests
//
// The AssemblyScript compiler (asc, the npm package assemblyscript, pinned
// by package-lock.json) is installed by internal/testsupport/npmcache
// outside the source tree (CI fails when a test leaves a file in it,
// ignored ones included), in one directory per user beside
// internal/plugintest's cache:
//
//	$TMPDIR/hookd-test-<uid>/asc/
//	  npm-<lock>/              package.json, package-lock.json, node_modules/, .done
//	  npm-<lock>.lock          held while npm ci runs: one test binary installs, the others wait
//	  paths-<checkout>/@hookrt/pdk-as -> <checkout>/plugins/pdk-as   asc --path: the SDK as a package
//	  wasm/<name>-<key>.wasm   built modules, keyed by every input (sources, options, compiler)
//
// <lock> hashes package.json and package-lock.json, so a new compiler
// version installs anew; a build's <key> hashes the SDK's sources, the
// plugin's, asconfig.json and <lock>, so an edit rebuilds. Files are
// written to a temporary name and renamed: readers see whole files only.
// Installations and builds unused for a week are removed.
//
// The tests skip when node or npm is missing, or npm ci fails, unless
// HOOKD_REQUIRE_ASC=1 (CI), which makes them fail instead.

const (
	envRequire = "HOOKD_REQUIRE_ASC"
	pkgName    = "@hookrt/pdk-as"
)

// asc is an installed compiler.
type asc struct {
	node   string // the node binary
	script string // node_modules/assemblyscript/bin/asc.js
	lock   string // the hash of the lock file, part of every build key
	paths  string // the --path directory holding @hookrt/pdk-as
	wasm   string // where built modules go
	sdk    string // this checkout's plugins/pdk-as, absolute
}

var (
	ascOnce   sync.Once
	theAsc    *asc
	ascErr    error
	ascSkip   bool // ascErr means "cannot run here", not "broken"
	buildMu   sync.Mutex
	buildDone = map[string]*ascBuild{}
)

type ascBuild struct {
	once sync.Once
	path string
	err  error
}

// compiler returns the installed compiler, installing it on first use; it
// skips t (or fails it, with HOOKD_REQUIRE_ASC=1) when that is impossible.
func compiler(t testing.TB) *asc {
	t.Helper()
	ascOnce.Do(func() { theAsc, ascSkip, ascErr = installAsc() })
	npmcache.Require(t, envRequire, ascSkip, ascErr)
	return theAsc
}

// installAsc installs the pinned compiler with npmcache, once for every
// test binary of this lock file. skip reports an error that means this
// machine cannot build AssemblyScript (no node, no npm, no registry).
func installAsc() (a *asc, skip bool, err error) {
	sdk, err := filepath.Abs(".")
	if err != nil {
		return nil, false, err
	}
	pkg, err := os.ReadFile(filepath.Join(sdk, "package.json"))
	if err != nil {
		return nil, false, err
	}
	lock, err := os.ReadFile(filepath.Join(sdk, "package-lock.json"))
	if err != nil {
		return nil, false, err
	}
	const script = "node_modules/assemblyscript/bin/asc.js"
	in, skip, err := npmcache.Install(npmcache.Project{
		Cache: "asc", Package: pkg, Lock: lock,
		Who: "pdk-as", What: "the AssemblyScript compiler",
		Requires: []string{script},
	})
	if err != nil {
		return nil, skip, err
	}
	paths, err := sdkPath(in.Root, sdk)
	if err != nil {
		return nil, false, err
	}
	wasm := filepath.Join(in.Root, "wasm")
	if err := os.MkdirAll(wasm, 0o700); err != nil {
		return nil, false, err
	}
	prune(in.Root)
	return &asc{node: in.Node, script: filepath.Join(in.Dir, filepath.FromSlash(script)), lock: in.Hash, paths: paths, wasm: wasm, sdk: sdk}, false, nil
}

// sdkPath makes the directory given to asc --path, where the SDK is the
// package @hookrt/pdk-as, as it is in a plugin's node_modules: a symlink
// to this checkout's plugins/pdk-as. Plugins import "@hookrt/pdk-as" and
// asconfig.json names its functions by that package's path.
func sdkPath(root, sdk string) (string, error) {
	sum := sha256.Sum256([]byte(sdk))
	paths := filepath.Join(root, "paths-"+hex.EncodeToString(sum[:6]))
	scope := filepath.Join(paths, "@hookrt")
	if err := os.MkdirAll(scope, 0o700); err != nil {
		return "", err
	}
	link := filepath.Join(scope, "pdk-as")
	if target, err := os.Readlink(link); err == nil && target == sdk {
		now := time.Now()
		_ = os.Chtimes(paths, now, now)
		return paths, nil
	}
	tmp := link + ".tmp" + strconv.Itoa(os.Getpid())
	_ = os.Remove(tmp)
	if err := os.Symlink(sdk, tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, link); err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	return paths, nil
}

// prune removes, best effort, checkouts' paths and builds unused for
// npmcache.PruneAge (npmcache prunes the installations).
func prune(root string) {
	old := time.Now().Add(-npmcache.PruneAge)
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		p := filepath.Join(root, e.Name())
		switch {
		case !e.IsDir():
		case strings.HasPrefix(e.Name(), "paths-"):
			if fi, err := e.Info(); err == nil && fi.ModTime().Before(old) {
				_ = os.RemoveAll(p)
			}
		case e.Name() == "wasm":
			files, _ := os.ReadDir(p)
			for _, f := range files {
				if fi, err := f.Info(); err == nil && fi.ModTime().Before(old) {
					_ = os.Remove(filepath.Join(p, f.Name()))
				}
			}
		}
	}
}

// buildAS compiles the AssemblyScript plugin whose entry file is entry
// (relative to plugins/pdk-as) with the SDK's asconfig.json, as a plugin
// author's build does, and returns the .wasm, which the test must not
// modify. It builds once per test binary and inputs, and reuses the build
// of another test binary with the same inputs.
func buildAS(t testing.TB, entry string) string {
	t.Helper()
	a := compiler(t)
	buildMu.Lock()
	b := buildDone[entry]
	if b == nil {
		b = &ascBuild{}
		buildDone[entry] = b
	}
	buildMu.Unlock()
	b.once.Do(func() { b.path, b.err = a.build(entry) })
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// ascArgs are the command line options of every build, after the entry
// file: the SDK's config, and the package path.
func (a *asc) args(entry, out string) []string {
	return []string{a.script, entry, "--config", filepath.Join(a.sdk, "asconfig.json"),
		"--path", a.paths, "--outFile", out, "--noColors"}
}

func (a *asc) build(entry string) (string, error) {
	src, err := filepath.Abs(entry)
	if err != nil {
		return "", err
	}
	// The project directory is asc's base directory, as `npm run build`
	// there makes it: a plugin's (the parent of assembly/), or this one.
	// Source names are relative to it, and compiled into the module (in
	// abort messages), so the test builds what a plugin author builds.
	project := a.sdk
	name := strings.TrimSuffix(filepath.Base(src), ".ts")
	if filepath.Base(filepath.Dir(src)) == "assembly" {
		project = filepath.Dir(filepath.Dir(src))
		name = filepath.Base(project)
	}
	rel, err := filepath.Rel(project, src)
	if err != nil {
		return "", err
	}
	key, err := a.key(src)
	if err != nil {
		return "", err
	}
	dst := filepath.Join(a.wasm, name+"-"+key+".wasm")
	if _, err := os.Stat(dst); err == nil {
		now := time.Now()
		_ = os.Chtimes(dst, now, now)
		return dst, nil
	}
	tmp, err := os.MkdirTemp(a.wasm, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, name+".wasm")
	cmd := exec.Command(a.node, a.args(filepath.ToSlash(rel), out)...)
	cmd.Dir = project // read only: asc writes nothing but out
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("pdk-as: asc %s: %v\n%s", entry, err, b)
	}
	if err := os.Rename(out, dst); err != nil {
		return "", err
	}
	return dst, nil
}

// key hashes what a build depends on: the compiler (its lock), the options,
// the SDK's sources and config, and the plugin's directory of sources.
func (a *asc) key(entry string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", a.lock, runtime.GOOS, strings.Join(a.args("ENTRY", "OUT")[1:], "\x00"))
	h.Write([]byte(entry))
	files, err := sources(a.sdk)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(entry, a.sdk+string(filepath.Separator)) {
		more, err := sources(filepath.Dir(entry))
		if err != nil {
			return "", err
		}
		files = append(files, more...)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "\x00%s\x00%d\x00", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)[:8]), nil
}

// sources lists the .ts and .json files under dir, node_modules excluded,
// sorted. Reading them also tells go test to rerun when one changes.
func sources(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "node_modules" || (strings.HasPrefix(d.Name(), ".") && p != dir) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".ts") || strings.HasSuffix(p, ".json") {
			out = append(out, p)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}
