package wasmhost

import "time"

// timerAlarm is an alarm on a Go timer: where there is no timerfd. The
// timer lives on the P of the watchdog goroutine blocked on it, not on a
// guest's.
type timerAlarm struct {
	t      *time.Timer
	closed chan struct{}
}

func newTimerAlarm() alarm {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &timerAlarm{t: t, closed: make(chan struct{})}
}

func (a *timerAlarm) set(d time.Duration) { a.t.Reset(d) }

func (a *timerAlarm) wait() bool {
	select {
	case <-a.t.C:
		return true
	case <-a.closed:
		return false
	}
}

func (a *timerAlarm) close() { close(a.closed) }
