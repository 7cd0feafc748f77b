package wasmhost

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// timerfdAlarm is an alarm on a Linux timerfd, read through the network
// poller: its expiry wakes an idle P, and is seen by the GC's idle mark
// worker and by sysmon, which Go timers are not (see deadline.go).
type timerfdAlarm struct {
	fd int
	f  *os.File
}

func newAlarm() alarm {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return newTimerAlarm() // a kernel without timerfd
	}
	return &timerfdAlarm{fd: fd, f: os.NewFile(uintptr(fd), "hookd-deadlines")}
}

func (a *timerfdAlarm) set(d time.Duration) {
	d = max(d, time.Nanosecond) // zero would disarm it
	_ = unix.TimerfdSettime(a.fd, 0, &unix.ItimerSpec{Value: unix.NsecToTimespec(d.Nanoseconds())}, nil)
}

func (a *timerfdAlarm) wait() bool {
	var b [8]byte // the number of expirations
	_, err := a.f.Read(b[:])
	return err == nil
}

func (a *timerfdAlarm) close() { _ = a.f.Close() }
