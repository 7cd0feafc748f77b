package plugintest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// binaries are the programs [Binary] built, by package path.
var binaries sync.Map // string → *build

// Binary builds the main package pkg (an import path in this module) for
// this machine, without the race detector (the program is the system
// under test, not the test binary), and returns the path of the
// executable, which the test must not modify:
//
//	go build -o <cache>/bin/<name> <pkg>
//
// As for plugins (see the package notes), the executable is shared by the
// test binaries of this user, built under an exclusive lock, and go build
// relinks it only when a source changed: cmd/hookd and the SDKs' tests
// that run `hookd serve` as a process link hookd once between them, not
// once each per run. A rebuild replaces the file by a rename, so a daemon
// started from the old one runs on. Binary builds once per package per
// test binary; it fails t when the build fails, and skips it when there
// is no go command.
func Binary(t testing.TB, pkg string) string {
	t.Helper()
	return once(t, &binaries, pkg, goBuildBinary)
}

func goBuildBinary(pkg string) (string, error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", errNoGo
	}
	c, err := getCache()
	if err != nil {
		return "", fmt.Errorf("plugintest: cache: %w", err)
	}
	out, err := exec.Command(gobin, "list", "-f", "{{.Dir}}", pkg).Output()
	if err != nil {
		return "", fmt.Errorf("plugintest: go list %s: %v", pkg, err)
	}
	// One executable per package and source directory: two checkouts of
	// the module do not relink each other's.
	d := sha256.Sum256([]byte(pkg + "\x00" + strings.TrimSpace(string(out))))
	name := path.Base(pkg) + "-" + hex.EncodeToString(d[:6])
	dir := filepath.Join(c.root, "bin")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	unlock, err := c.lock(filepath.Join(dir, name+".lock"))
	if err != nil {
		return "", fmt.Errorf("plugintest: %w", err)
	}
	defer unlock()
	exe := filepath.Join(dir, name)
	if b, err := exec.Command(gobin, "build", "-o", exe, pkg).CombinedOutput(); err != nil {
		return "", fmt.Errorf("plugintest: go build %s: %v\n%s", pkg, err, b)
	}
	return exe, nil
}
