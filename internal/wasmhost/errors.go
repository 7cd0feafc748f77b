package wasmhost

import (
	"errors"
	"strings"

	"github.com/hookrt/hookd/hostapi"
)

// Errors wrapped by the errors of this package, for errors.Is.
var (
	// ErrClosed: the plugin or the engine is closed.
	ErrClosed = errors.New("plugin closed")
	// ErrABI: the binary does not fit the hookd_v1 ABI (see [ABIError]).
	ErrABI = errors.New("plugin does not fit the ABI")
	// ErrRefused: hookd_v1_init returned non-zero, or the binary could not
	// be read, compiled or instantiated.
	ErrRefused = errors.New("plugin refused")
	// ErrDeadline: the call ran past its deadline and was stopped.
	ErrDeadline = errors.New("plugin exceeded its deadline")
	// ErrCanceled: the caller's ctx was canceled during the call.
	ErrCanceled = errors.New("plugin call canceled")
	// ErrTrap: the guest trapped (unreachable, out of bounds, a Go panic,
	// proc_exit…).
	ErrTrap = errors.New("plugin trapped")
	// ErrMemoryLimit: the guest trapped at (or close to) its memory limit;
	// also wraps ErrTrap.
	ErrMemoryLimit = errors.New("plugin hit its memory limit")
	// ErrReplyTooLarge: the guest tried to set a reply over Limits.MaxReply.
	ErrReplyTooLarge = errors.New("plugin reply too large")
	// ErrBusy: no CPU slot or instance was free before the call's
	// deadline or the caller's ctx ended (with ErrDeadline when it was a
	// deadline).
	ErrBusy = errors.New("plugin busy")
	// ErrBackedOff: the plugin kept running past its deadline and is
	// backed off for a cool-down; the call was not made (see fair.go).
	ErrBackedOff = errors.New("plugin backed off")
	// ErrPinned: the binary's SHA-256 is not the one the plugin is pinned
	// to (Limits.SHA256); also wraps ErrRefused.
	ErrPinned = errors.New("plugin binary does not match its pinned sha256")
	// ErrEventTooLarge: the event is over hostapi.MaxEvent.
	ErrEventTooLarge = errors.New("event too large for a plugin")
)

// ABIError lists why a binary does not fit the hookd_v1 ABI. It wraps
// [ErrABI].
type ABIError struct {
	Problems []string
}

func (e *ABIError) Error() string {
	return "plugin does not fit ABI " + hostapi.ModuleName + ": " + strings.Join(e.Problems, "; ")
}

func (e *ABIError) Is(target error) bool { return target == ErrABI }

// callError is a failure with a text for the delivery log and the errors
// it stands for.
type callError struct {
	msg  string
	errs []error
}

func (e *callError) Error() string   { return e.msg }
func (e *callError) Unwrap() []error { return e.errs }

func newError(msg string, errs ...error) error { return &callError{msg: msg, errs: errs} }
