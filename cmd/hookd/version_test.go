package main

import (
	"bytes"
	"context"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	t.Parallel()
	vcs := &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261129141205-47fa383d27aa+dirty"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "47fa383d27aa4abd68d267c3f9c0d65160e1799d"},
		{Key: "vcs.time", Value: "2026-11-29T14:12:05Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	clean := &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "1a2b3c"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "false"},
	}}
	for _, tc := range []struct {
		name                  string
		version, commit, date string // -ldflags
		bi                    *debug.BuildInfo
		want                  buildInfo
	}{
		{"nothing", "", "", "", nil, buildInfo{Version: "dev", Commit: "unknown", Date: "unknown"}},
		{"go test", "", "", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, buildInfo{Version: "dev", Commit: "unknown", Date: "unknown"}},
		{"a dirty checkout", "", "", "", vcs, buildInfo{Version: "v0.0.0-20261129141205-47fa383d27aa+dirty", Commit: "47fa383d27aa-dirty", Date: "2026-11-29T14:12:05Z", DateIsCommit: true}},
		{"go install of a tag", "", "", "", clean, buildInfo{Version: "v1.4.0", Commit: "1a2b3c", Date: "2026-01-02T03:04:05Z", DateIsCommit: true}},
		{"ldflags win", "v1.5.0", "abc1234", "2026-12-01T00:00:00Z", vcs, buildInfo{Version: "v1.5.0", Commit: "abc1234", Date: "2026-12-01T00:00:00Z"}},
		{"ldflags version only", "v1.5.0", "", "", vcs, buildInfo{Version: "v1.5.0", Commit: "47fa383d27aa-dirty", Date: "2026-11-29T14:12:05Z", DateIsCommit: true}},
	} {
		got := fromBuildInfo(tc.version, tc.commit, tc.date, tc.bi)
		tc.want.Go, tc.want.Platform = runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH
		if got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestVersionCommand: hookd version prints every field; a test binary has
// no build info of its own, so it is "dev" unless VCS stamping ran.
func TestVersionCommand(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	b := buildInfo{Version: "v9.8.7", Commit: "abc1234", Date: "2026-11-29T10:00:00Z", Go: "go1.26.8", Platform: "linux/arm64"}
	if err := printVersion(&out, b); err != nil {
		t.Fatal(err)
	}
	if want := "hookd v9.8.7\n  commit: abc1234\n  built:  2026-11-29T10:00:00Z\n  go:     go1.26.8 linux/arm64\n"; out.String() != want {
		t.Errorf("%q, want %q", out.String(), want)
	}
	out.Reset()
	b.DateIsCommit = true
	printVersion(&out, b)
	if !strings.Contains(out.String(), "  built:  2026-11-29T10:00:00Z (commit time)\n") {
		t.Errorf("a commit time: %q", out.String())
	}
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "hookd "+hookdVersion()+"\n  commit: ") {
			t.Errorf("%s: exit %d, %q %q", args, code, out.String(), errb.String())
		}
	}
}
