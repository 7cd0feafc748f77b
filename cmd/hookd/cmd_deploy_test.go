package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	hookrt "github.com/hookrt/hookd/runtime"
)

// The packaging files name hookd's commands, flags and build variables;
// these tests keep them in step with the code (a renamed flag or variable
// would otherwise only show when an image or a unit fails to start).

// repoFile reads a file of the repository.
func repoFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantCommand checks that args (without "hookd") are a command hookd has,
// with flags it takes: they parse, up to the -h added at the end.
func wantCommand(t *testing.T, where string, args []string) {
	t.Helper()
	code, out, errb := hookd(append(args, "-h")...)
	if code != 0 || !strings.HasPrefix(out, "usage: hookd ") {
		t.Errorf("%s: hookd %s is not a command hookd has: exit %d, %s", where, strings.Join(args, " "), code, errb)
	}
}

// unitKeys parses a systemd unit into key → values.
func unitKeys(unit string) map[string][]string {
	keys := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = append(keys[k], v)
		}
	}
	return keys
}

func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	keys := unitKeys(repoFile(t, "deploy/hookd.service"))
	exec := strings.Fields(keys["ExecStart"][0])
	if exec[0] != "/usr/local/bin/hookd" || exec[1] != "serve" {
		t.Errorf("ExecStart=%s", keys["ExecStart"][0])
	}
	wantCommand(t, "ExecStart", exec[1:])
	stop, err := time.ParseDuration(keys["TimeoutStopSec"][0])
	if err != nil || stop <= 2*shutdownGrace { // requests, then attempts: 15 s each
		t.Errorf("TimeoutStopSec=%s: must be above %s, the longest graceful shutdown", keys["TimeoutStopSec"][0], 2*shutdownGrace)
	}
	for k, want := range map[string]string{
		"User": "hookd", "StateDirectory": "hookd", "WorkingDirectory": "/var/lib/hookd", "KillSignal": "SIGTERM",
		"Restart": "on-failure", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
	} {
		if got := keys[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%v, want %s", k, got, want)
		}
	}
	if rw := strings.Join(keys["ReadWritePaths"], " "); !strings.Contains(rw, "/var/lib/hookd") {
		t.Errorf("ReadWritePaths=%s lacks the state directory", rw)
	}
	// The config the unit names: absolute paths inside what the unit may write.
	cfg, err := hookrt.ParseConfig([]byte(repoFile(t, "deploy/systemd/config.toml")), "/etc/hookd")
	if err != nil {
		t.Fatalf("deploy/systemd/config.toml: %v", err)
	}
	for what, p := range map[string]string{"store.path": cfg.Store.Path, "storage.private_dir": cfg.Storage.PrivateDir} {
		if !strings.HasPrefix(p, "/var/lib/hookd/") {
			t.Errorf("deploy/systemd/config.toml: %s = %s, outside /var/lib/hookd", what, p)
		}
	}
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	df := repoFile(t, "Dockerfile")
	for _, want := range []string{
		"FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build", "ARG GO_VERSION=1.26", "CGO_ENABLED=0", "-trimpath",
		"-X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}", "gcr.io/distroless/static-debian12:nonroot",
		"USER 65532:65532", `VOLUME ["/data"]`, "EXPOSE 7700", "ENV HOOKD_CONFIG=/etc/hookd/config.toml",
		"COPY deploy/docker/config.toml /etc/hookd/config.toml", `ENTRYPOINT ["/usr/local/bin/hookd"]`,
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	// HEALTHCHECK and CMD run hookd commands that exist, with flags they take.
	for _, re := range []string{`(?s)HEALTHCHECK .*?CMD (\[[^\]]*\])`, `(?m)^CMD (\[[^\]]*\])`} {
		m := regexp.MustCompile(re).FindStringSubmatch(df)
		if m == nil {
			t.Errorf("Dockerfile: no %s", re)
			continue
		}
		var args []string
		if err := json.Unmarshal([]byte(m[1]), &args); err != nil {
			t.Fatalf("Dockerfile %s: %v", m[1], err)
		}
		if args[0] == "/usr/local/bin/hookd" {
			args = args[1:]
		}
		wantCommand(t, "Dockerfile", args)
	}
	// The image's config listens beyond loopback, so it must name a token
	// file; its paths are in the /data volume.
	cfg, err := hookrt.ParseConfig([]byte(repoFile(t, "deploy/docker/config.toml")), "/etc/hookd")
	if err != nil {
		t.Fatalf("deploy/docker/config.toml: %v", err)
	}
	if cfg.Server.Listen != "0.0.0.0:7700" || cfg.Server.TokenFile != "/run/secrets/hookd_token" {
		t.Errorf("deploy/docker/config.toml: listen %s, token_file %s", cfg.Server.Listen, cfg.Server.TokenFile)
	}
	for what, p := range map[string]string{"store.path": cfg.Store.Path, "storage.private_dir": cfg.Storage.PrivateDir} {
		if !strings.HasPrefix(p, "/data/") {
			t.Errorf("deploy/docker/config.toml: %s = %s, outside the /data volume", what, p)
		}
	}
	ignore := repoFile(t, ".dockerignore")
	for _, want := range []string{"**/*.pem", "**/private", "**/*.db"} {
		if !strings.Contains(ignore, want) {
			t.Errorf(".dockerignore lacks %q: keys and stores must not reach an image", want)
		}
	}
}

// TestReleaseStamping builds hookd as make release and the Dockerfile do
// and checks that hookd version shows what -ldflags set: a renamed
// variable would be ignored by the linker without a word.
func TestReleaseStamping(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hookd (-short)")
	}
	t.Parallel()
	mk := repoFile(t, "Makefile")
	for _, want := range []string{"-X main.version=$(VERSION) -X main.commit=$$commit -X main.date=$$date", "CGO_ENABLED=0", "-trimpath", "SHA256SUMS"} {
		if !strings.Contains(mk, want) {
			t.Errorf("Makefile's release target lacks %q", want)
		}
	}
	// The build uses the default flags, not the release's CGO_ENABLED=0
	// and -trimpath (checked in the Makefile above): what is tested is
	// that the linker finds the -X variables, which neither flag changes,
	// and with the default flags the packages come from the build cache
	// (make lint, make cross) instead of being compiled anew, which took
	// minutes under -race on a busy 2-core machine.
	bin := filepath.Join(t.TempDir(), "hookd")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin,
		"-ldflags", "-X main.version=v9.8.7 -X main.commit=abc1234 -X main.date=2026-11-29T10:00:00Z", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(ctx, bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "hookd v9.8.7\n  commit: abc1234\n  built:  2026-11-29T10:00:00Z\n  go:     go") {
		t.Errorf("hookd version: %v\n%s", err, out)
	}
}
