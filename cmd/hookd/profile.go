package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
)

// profiles are serve's -cpuprofile and -memprofile: the daemon's own
// profiles, in pprof's format, so that a "what limits it" can be backed
// by the real daemon under real load rather than by an in-process
// benchmark. The CPU profile covers serve from its start to its stop; the
// heap profile is taken at the stop, after a GC, before the shutdown
// frees anything (inuse_space is what the serving daemon held;
// alloc_space everything it allocated since it started). Both are
// written when serve stops (SIGTERM, SIGINT, or a listener failing), so
// that a second signal, which exits at once, finds them already written.
type profiles struct {
	cpuPath, memPath string
	cpu, mem         *os.File
}

// addFlags adds -cpuprofile and -memprofile to serve's flags.
func (p *profiles) addFlags(fs *flag.FlagSet) {
	fs.StringVar(&p.cpuPath, "cpuprofile", "", "write a CPU profile (pprof) of the daemon to `FILE`, from the start until serve stops")
	fs.StringVar(&p.memPath, "memprofile", "", "write a heap profile (pprof) of the daemon to `FILE` when serve stops")
}

// start creates the profile files, so that a path that cannot be written
// stops serve before anything starts, and starts the CPU profile.
func (p *profiles) start() error {
	if p.memPath != "" {
		f, err := os.Create(p.memPath)
		if err != nil {
			return fmt.Errorf("-memprofile: %w", err)
		}
		p.mem = f
	}
	if p.cpuPath != "" {
		f, err := os.Create(p.cpuPath)
		if err != nil {
			p.closeMem()
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			p.closeMem()
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		p.cpu = f
	}
	return nil
}

// stop writes the profiles that were asked for and closes their files,
// logging where each went (or why it could not); a second call does
// nothing.
func (p *profiles) stop(log *slog.Logger) {
	if p.cpu != nil {
		pprof.StopCPUProfile()
		logProfile(log, "CPU", p.cpuPath, p.cpu.Close())
		p.cpu = nil
	}
	if p.mem != nil {
		runtime.GC() // the heap profile's in-use figures are as of the last GC
		err := pprof.Lookup("heap").WriteTo(p.mem, 0)
		logProfile(log, "heap", p.memPath, errors.Join(err, p.mem.Close()))
		p.mem = nil
	}
}

func (p *profiles) closeMem() {
	if p.mem != nil {
		p.mem.Close()
		p.mem = nil
	}
}

func logProfile(log *slog.Logger, what, path string, err error) {
	if err != nil {
		log.Error("writing the "+what+" profile", slog.String("file", path), slog.Any("error", err))
		return
	}
	log.Info("wrote the "+what+" profile", slog.String("file", path))
}
