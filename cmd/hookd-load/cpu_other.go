//go:build !unix

package main

import (
	"errors"
	"time"
)

// selfCPU is not measured on this system.
func selfCPU() (time.Duration, error) {
	return 0, errors.New("the process's CPU time is measured on Unix systems only")
}
