package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memSample is what /proc/<pid>/status says of a process's memory, in kB
// (the kernel's kB are KiB). RSS = RssAnon + RssFile + RssShmem: anonymous
// pages (Go's heap and stacks, C allocations such as SQLite's page cache),
// file pages mapped in (the binary, and SQLite's mmap'd database file) and
// shared memory. HWM is the peak RSS since the process started.
type memSample struct {
	RSS, HWM, Anon, File, Shmem int64
}

// procMem reads process pid's memory from /proc/<pid>/status. Linux only.
func procMem(pid int) (memSample, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memSample{}, err
	}
	m, err := parseProcStatus(data)
	if err != nil {
		return memSample{}, fmt.Errorf("/proc/%d/status: %w", pid, err)
	}
	return m, nil
}

// parseProcStatus reads VmRSS, VmHWM, RssAnon, RssFile and RssShmem (all
// "<n> kB") from a /proc/<pid>/status file. VmRSS and VmHWM are required;
// the Rss* split (Linux 4.5 and later) is left 0 when absent.
func parseProcStatus(data []byte) (memSample, error) {
	var m memSample
	dst := map[string]*int64{"VmRSS": &m.RSS, "VmHWM": &m.HWM, "RssAnon": &m.Anon, "RssFile": &m.File, "RssShmem": &m.Shmem}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		p := dst[key]
		if !ok || p == nil {
			continue
		}
		num, unit, _ := strings.Cut(strings.TrimSpace(val), " ")
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || unit != "kB" {
			return memSample{}, fmt.Errorf("%s: %q is not a number of kB", key, strings.TrimSpace(val))
		}
		*p = n
		seen[key] = true
	}
	if !seen["VmRSS"] || !seen["VmHWM"] {
		return memSample{}, errors.New("no VmRSS or VmHWM line (a kernel thread, or not Linux)")
	}
	return m, nil
}

// rssPoint is the RSS at one time of a run, for the report's series.
type rssPoint struct {
	T  float64 `json:"t_s"` // since the first request
	KB int64   `json:"kb"`
}

// rssSampler records the RSS of pid every interval until stopped: the
// shape of the memory over a long run (does it grow, or level off?).
type rssSampler struct {
	mu     sync.Mutex
	points []rssPoint
	done   chan struct{}
	wg     sync.WaitGroup
}

// startRSS samples pid's RSS every interval, the first time at once; since
// gives the time on the run's clock. interval ≤ 0 or pid ≤ 0 samples nothing.
func startRSS(pid int, interval time.Duration, since func() time.Duration) *rssSampler {
	s := &rssSampler{done: make(chan struct{})}
	if pid <= 0 || interval <= 0 {
		return s
	}
	take := func() {
		if m, err := procMem(pid); err == nil {
			s.mu.Lock()
			s.points = append(s.points, rssPoint{T: round(since().Seconds(), 1), KB: m.RSS})
			s.mu.Unlock()
		}
	}
	s.wg.Go(func() {
		take()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				take()
			}
		}
	})
	return s
}

// stop ends the sampling and returns the points.
func (s *rssSampler) stop() []rssPoint {
	close(s.done)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.points
}
