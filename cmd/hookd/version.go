package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Set at build time by a release build (make release, the Dockerfile):
//
//	go build -ldflags "-X main.version=v1.2.3 -X main.commit=1a2b3c4 -X main.date=2026-11-29T10:00:00Z"
//
// Left empty, they are read from the build info Go stamps into every
// binary built from a module in a git checkout: the main module's
// version, vcs.revision, vcs.time and vcs.modified.
var (
	version = ""
	commit  = ""
	date    = ""
)

// buildInfo is what `hookd version` prints.
type buildInfo struct {
	Version, Commit, Date, Go, Platform string
	// DateIsCommit says that Date is the commit's time (vcs.time), not
	// the build's.
	DateIsCommit bool
}

// readBuildInfo takes each field from -ldflags when it was set, else from
// the build info, else "dev" or "unknown".
func readBuildInfo() buildInfo {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(version, commit, date, bi)
}

// fromBuildInfo fills in what -ldflags left empty from bi (nil when the
// binary has none).
func fromBuildInfo(version, commit, date string, bi *debug.BuildInfo) buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		var rev, at string
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if b.Commit == "" && rev != "" {
			b.Commit = rev[:min(len(rev), 12)]
			if dirty {
				b.Commit += "-dirty"
			}
		}
		if b.Date == "" && at != "" {
			b.Date, b.DateIsCommit = at, true
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

// hookdVersion is the version alone: the User-Agent (hookd/<version>)
// and the start-up log line carry it.
func hookdVersion() string { return readBuildInfo().Version }

// cmdVersion prints the version, commit, build date and Go version.
func cmdVersion(args []string, stdout io.Writer) error {
	f := newFlags("version")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := f.wantArgs(pos); err != nil {
		return err
	}
	return printVersion(stdout, readBuildInfo())
}

// printVersion prints b as hookd version does.
func printVersion(stdout io.Writer, b buildInfo) error {
	when := b.Date
	if b.DateIsCommit {
		when += " (commit time)"
	}
	_, err := fmt.Fprintf(stdout, "hookd %s\n  commit: %s\n  built:  %s\n  go:     %s %s\n", b.Version, b.Commit, when, b.Go, b.Platform)
	return err
}
