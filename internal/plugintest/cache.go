package plugintest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/hookrt/hookd/internal/testsupport/filelock"
)

// The shared cache
//
// The test binaries of several packages (plugins/pdk, plugins/examples,
// cmd/hookd) build the same Go guests and compile them with wazero: a
// 3 MB guest takes 3 s to compile on an idle machine, and 30 s in a test
// binary built with -race, several times that on a busy machine. They
// share both, through one directory per user under os.TempDir():
//
//	hookd-test-<uid>/v1/
//	  build/<name>.wasm, .lock  go build's output for one package, rebuilt in place
//	  wasm/<name>-<sha>.wasm    a copy of each distinct build, named by its content
//	  wazero/<version>/         wazero's compilation cache (wasmhost.Options.CacheDir)
//	  locks/<sha>.lock          the first compilation of a module, by its content
//
// Build compiles what it built into the cache with ./compiler, a program
// built without the race detector (go run), so that a test binary built
// with it does not spend half a minute per guest; the compiler is linked
// with the wazero version the test binary reports, so that its entries
// are the test binary's (TestCompilerKeyMatchesTheEngine checks they are).
// Concurrent test binaries are safe:
//
//   - go build writes build/<name>.wasm, and the compiler compiles it, only
//     under an exclusive lock on build/<name>.lock (flock, released when
//     the process dies, however it dies): one test binary builds and
//     compiles a package, the others wait, then find both done. go build
//     relinks when any source changed (its own staleness check, by build
//     IDs) and leaves an up-to-date file alone.
//   - Build returns wasm/<name>-<sha>.wasm, created by write-to-temp and
//     rename in its directory and never modified after: readers see whole
//     files only, and a test keeps the build of the sources it saw.
//   - wazero's file cache writes each entry to a temp file in the same
//     directory, syncs and renames it (internal/filecache.Add), and reads
//     by opening the final name: a reader sees a whole old entry or a whole
//     new one, never a partial one; a checksum guards the code. Its keys
//     hash the module's bytes, whether termination is ensured, the
//     listeners and the CPU's features. wazero names its directory by its
//     version, but a test binary has no module information and says
//     "dev": the directory above it is named by the version read from
//     wazero's source path (and the Go version), so that an upgrade of
//     wazero never reads another version's code; a wazero that is not in
//     the module cache (replaced, vendored) is not shared.
//   - The first compilation of each module in a process runs under
//     locks/<sha>.lock, so that two test binaries do not compile the same
//     module at once on a machine already short of CPU: the second waits,
//     then reads what the first wrote. Correctness does not depend on it.
//
// The directories must be the user's own and private (0700, no symlink);
// anything else, or a system without flock, gets a private directory per
// test binary instead, removed by [Main]. Files untouched for a week are
// pruned. To start cold, remove the directory or set TMPDIR.
const cacheVersion = "v1"

// pruneAge is how old an unused cache file gets before it is removed.
const pruneAge = 7 * 24 * time.Hour

type cache struct {
	root   string
	wazero string // the compilation cache
	shared bool   // false: a directory of this process, removed by Main

	versionOnce sync.Once
	version     string // wazero's version as this binary knows it
}

var (
	cacheOnce sync.Once
	theCache  *cache
	cacheErr  error
)

// getCache returns the cache of this process, set up on first use.
func getCache() (*cache, error) {
	cacheOnce.Do(func() { theCache, cacheErr = openCache() })
	return theCache, cacheErr
}

func openCache() (*cache, error) {
	if v := wazeroVersion(); canLock && v != "" {
		parent := filepath.Join(os.TempDir(), "hookd-test-"+strconv.Itoa(os.Getuid()))
		root := filepath.Join(parent, cacheVersion)
		if privateDir(parent) == nil && privateDir(root) == nil {
			c := &cache{root: root, wazero: filepath.Join(root, "wazero", v+"-"+runtime.Version()), shared: true}
			if c.mkdirs() == nil {
				c.prune()
				return c, nil
			}
		}
	}
	d, err := os.MkdirTemp("", "hookd-plugintest-")
	if err != nil {
		return nil, err
	}
	c := &cache{root: d, wazero: filepath.Join(d, "wazero")}
	return c, c.mkdirs()
}

// wazeroVersion is the version of the wazero this binary is built with,
// read from the path of its source in the module cache; "" when it is not
// from there (replaced or vendored: its code cannot be told apart).
func wazeroVersion() string {
	f := runtime.FuncForPC(reflect.ValueOf(wazero.NewRuntime).Pointer())
	if f == nil {
		return ""
	}
	file, _ := f.FileLine(f.Entry())
	const mod = "github.com/tetratelabs/wazero@"
	_, v, ok := strings.Cut(filepath.ToSlash(file), mod)
	if !ok {
		return ""
	}
	v, _, ok = strings.Cut(v, "/")
	if !ok || v == "" || strings.ContainsAny(v, `\:`) {
		return ""
	}
	return v
}

func (c *cache) mkdirs() error {
	for _, d := range []string{"build", "wasm", "locks", c.wazero} {
		if !filepath.IsAbs(d) {
			d = filepath.Join(c.root, d)
		}
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	return nil
}

// privateDir makes dir (0700) if it is missing and checks it is a directory
// of this user that nobody else can write to.
func privateDir(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return filelock.CheckPrivate(dir)
}

// prune removes wasm copies, compiled entries and module locks untouched for
// pruneAge. Removing a file another process is about to read is a cache
// miss for it, nothing worse; build/ and bin/ are left alone (their locks
// must stay).
func (c *cache) prune() {
	old := time.Now().Add(-pruneAge)
	_ = filepath.WalkDir(c.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if d.Name() == "build" || d.Name() == "bin" {
				return filepath.SkipDir
			}
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.ModTime().Before(old) {
			_ = os.Remove(p)
		}
		return nil
	})
}

// lock takes an exclusive lock on the lock file at path, waiting for it;
// a no-op for a cache of this process only.
func (c *cache) lock(path string) (unlock func(), err error) {
	if !c.shared {
		return func() {}, nil
	}
	return filelock.Lock(path)
}

// keep stores b as wasm/<name>-<sha>.wasm, unless it is there already, and
// returns its path.
func (c *cache) keep(name string, b []byte) (string, error) {
	sum := sha256.Sum256(b)
	dst := filepath.Join(c.root, "wasm", name+"-"+hex.EncodeToString(sum[:8])+".wasm")
	if _, err := os.Stat(dst); err == nil {
		now := time.Now()
		_ = os.Chtimes(dst, now, now) // in use: not to be pruned
		return dst, nil
	}
	f, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".*.tmp")
	if err != nil {
		return "", err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), dst)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return dst, nil
}

// engineVersion is wazero's version as this binary knows it ("dev" in a
// test binary): the name of the directory its compilation cache makes.
func (c *cache) engineVersion() string {
	c.versionOnce.Do(func() {
		d, err := os.MkdirTemp("", "hookd-plugintest-version-")
		if err != nil {
			return
		}
		defer os.RemoveAll(d)
		cc, err := wazero.NewCompilationCacheWithDir(d)
		if err != nil {
			return
		}
		_ = cc.Close(context.Background())
		names, _ := filepath.Glob(filepath.Join(d, "wazero-*-"+runtime.GOARCH+"-"+runtime.GOOS))
		if len(names) == 1 {
			v := strings.TrimPrefix(filepath.Base(names[0]), "wazero-")
			c.version = strings.TrimSuffix(v, "-"+runtime.GOARCH+"-"+runtime.GOOS)
		}
	})
	return c.version
}

// precompile compiles wasm into dir with ./compiler, built without the race
// detector and told this binary's wazero version, so that this binary's
// engine finds it compiled. Best effort: on any failure the engine
// compiles the module itself, and says what is wrong with it.
func (c *cache) precompile(gobin, dir, wasm string) error {
	v := c.engineVersion()
	if v == "" {
		return errors.New("wazero's version is unknown")
	}
	cmd := exec.Command(gobin, "run", "-ldflags=-X=github.com/tetratelabs/wazero/internal/version.version="+v,
		"github.com/hookrt/hookd/internal/plugintest/compiler", dir, wasm)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v\n%s", err, b)
	}
	return nil
}

// module serialises the first compilation of one .wasm in this process.
type module struct {
	mu       sync.Mutex
	compiled bool
}

var modules sync.Map // path -> *module

// compiling runs compile, which compiles the module at wasm through the
// cache, under the module's locks the first time in this process: other
// goroutines and other test binaries wanting it wait, then find it
// compiled. Later calls run compile at once.
func (c *cache) compiling(wasm string, compile func() error) error {
	v, _ := modules.LoadOrStore(wasm, &module{})
	m := v.(*module)
	m.mu.Lock()
	if m.compiled {
		m.mu.Unlock()
		return compile()
	}
	defer m.mu.Unlock()
	b, err := os.ReadFile(wasm)
	if err != nil {
		return compile() // compile says what is wrong with the file
	}
	sum := sha256.Sum256(b)
	unlock, err := c.lock(filepath.Join(c.root, "locks", hex.EncodeToString(sum[:16])+".lock"))
	if err != nil {
		return err
	}
	defer unlock()
	m.compiled = true // whatever compile returns: the cache has what can be had
	return compile()
}

// CacheDir returns the compilation cache of the test binary's engine,
// shared with the other test binaries of this user where that is safe
// (see the package notes). Give it to a daemon under test, as its
// [plugins] cache_dir, and it finds the plugins [Build] built compiled.
func CacheDir(t testing.TB) string {
	t.Helper()
	c, err := getCache()
	if err != nil {
		t.Fatalf("plugintest: cache: %v", err)
	}
	return c.wazero
}
