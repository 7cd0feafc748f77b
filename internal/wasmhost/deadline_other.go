//go:build !linux

package wasmhost

func newAlarm() alarm { return newTimerAlarm() }
