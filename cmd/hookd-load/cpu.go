package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks returns the kernel's clock ticks per second (the unit of
// /proc/<pid>/stat's CPU times): `getconf CLK_TCK`, or 100, the value on
// every common Linux, when getconf is not there.
func clockTicks() int {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return n
		}
	}
	return 100
}

// procCPU returns the CPU time (user + system) process pid has used, from
// /proc/<pid>/stat, with ticks clock ticks per second. Linux only.
func procCPU(pid, ticks int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	st, err := parseProcStat(data)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return ticksToDuration(st.utime+st.stime, ticks), nil
}

func ticksToDuration(n uint64, ticks int) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(ticks)
}

// procStat is what is read of a /proc/<pid>/stat line.
type procStat struct {
	comm           string
	utime, stime   uint64 // this process, clock ticks
	cutime, cstime uint64 // its children that have exited and been waited for
}

// parseProcStat reads the command name (field 2) and utime, stime, cutime
// and cstime (fields 14 to 17, in clock ticks) from a /proc/<pid>/stat
// line. The command name is in parentheses and may hold spaces and
// parentheses itself, so the fields are counted from the last ')'.
func parseProcStat(data []byte) (procStat, error) {
	open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || end < open {
		return procStat{}, errors.New("no command name in parentheses")
	}
	st := procStat{comm: string(data[open+1 : end])}
	fields := strings.Fields(string(data[end+1:]))
	// fields[0] is field 3 (state), so field 14 is fields[11].
	if len(fields) < 15 {
		return procStat{}, fmt.Errorf("%d fields after the command name, want at least 15", len(fields))
	}
	for i, dst := range []*uint64{&st.utime, &st.stime, &st.cutime, &st.cstime} {
		v, err := strconv.ParseUint(fields[11+i], 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("field %d: %w", 14+i, err)
		}
		*dst = v
	}
	return st, nil
}

// commCPU adds up the CPU time of every process named comm (as in
// /proc/<pid>/comm, e.g. "postgres"), with the CPU of their children that
// have exited (a PostgreSQL backend's goes to the postmaster when it ends),
// and returns it with the number of processes. Linux only.
func commCPU(comm string, ticks int) (time.Duration, int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0, err
	}
	var total uint64
	n := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		st, err := parseProcStat(data)
		if err != nil || st.comm != comm {
			continue
		}
		total += st.utime + st.stime + st.cutime + st.cstime
		n++
	}
	return ticksToDuration(total, ticks), n, nil
}

// checkHookdPid returns a warning when pid does not look like hookd
// itself: `go run` runs hookd as a child of the go command, whose own CPU
// is not hookd's.
func checkHookdPid(pid int) (string, error) {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return "", fmt.Errorf("-pid %d: %w (is hookd running? find it with: pgrep -f 'hookd serve')", pid, err)
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	switch name := filepath.Base(args[0]); {
	case name == "go":
		return fmt.Sprintf("-pid %d is the go command, not hookd: its CPU is not hookd's; build hookd (go build -o /tmp/hookd ./cmd/hookd) and give its pid", pid), nil
	case !strings.Contains(name, "hookd"):
		return fmt.Sprintf("-pid %d runs %q, which does not look like hookd", pid, args[0]), nil
	}
	return "", nil
}
