package hostapi

import "strconv"

// Names of the contract.
const (
	// ModuleName is the module the host functions are exported from.
	ModuleName = "hookd_v1"
	// Version is the ABI version this package names.
	Version = 1
	// EntryPoint is the guest export called once per event: () -> i32.
	EntryPoint = "hookd_v1_on_event"
	// InitExport is the optional guest export called once per instance,
	// after _initialize: () -> i32; non-zero refuses the instance.
	InitExport = "hookd_v1_init"
	// MemoryExport is the guest's linear memory export, required.
	MemoryExport = "memory"
	// ReactorInit is the WASI reactor start function, run first when
	// exported (Go -buildmode=c-shared).
	ReactorInit = "_initialize"
	// SignupExport is the optional guest export that decides a sign-up to
	// the plugin's domain while the user waits: () -> i32, one of the
	// Signup results. A plugin without it is not asked.
	SignupExport = "hookd_v1_on_signup"
)

// Results of [SignupExport]. Any other value, like a trap or a deadline,
// means the plugin could not decide: the sign-up is refused (fail closed).
const (
	SignupAllow   int32 = 0 // the plugin allows the sign-up
	SignupRefuse  int32 = 1 // the plugin refuses it; the message of error_set is the reason shown to the user
	SignupAbstain int32 = 2 // the plugin does not decide: as if it had no on_signup
)

// The fields of a sign-up, as the event functions read them during a call
// of [SignupExport]: the fields the External WebAPI is sent, never the
// password.
const (
	SignupUsername = "username"
	SignupDomain   = "domain"
	SignupEmail    = "email"
	SignupFullName = "fullname"
	SignupLanguage = "language"
)

// Status codes returned by every host function: >= 0 success (for readers,
// the length of the data), < 0 one of these errors.
const (
	OK             int32 = 0
	ErrBadArgument int32 = -1 // an argument is not valid (bad JSON, bad level, forbidden claim), or no call state
	ErrMemory      int32 = -2 // a pointer or length lies outside guest memory, or a length is negative
	ErrNotFound    int32 = -3 // no such field (event_get) or no result yet (result_read)
	ErrTooLarge    int32 = -4 // over a size limit (reply, request, claims)
	ErrDenied      int32 = -5 // the capability is not granted, or the target is not allowed
	ErrLimit       int32 = -6 // a count or rate limit is exhausted (log lines, HTTP requests)
	ErrTimeout     int32 = -7 // the call's deadline or the request's timeout passed
	ErrFailed      int32 = -8 // the operation failed for another reason (logged by the host)
)

// Results of [EntryPoint]. Any other value is treated as [StatusRetry].
const (
	StatusHandled int32 = 0 // the reply (none: <nomessage/>) is the answer
	StatusRetry   int32 = 1 // failed, may succeed later: retried like a failed script
	StatusFail    int32 = 2 // failed for good: dead-lettered
)

// Log levels of the log host function.
const (
	LevelDebug int32 = 0
	LevelInfo  int32 = 1
	LevelWarn  int32 = 2
	LevelError int32 = 3
)

// statusNames are the ABI names of the error codes, by -code-1.
var statusNames = [...]string{
	"ERR_BAD_ARGUMENT", "ERR_MEMORY", "ERR_NOT_FOUND", "ERR_TOO_LARGE",
	"ERR_DENIED", "ERR_LIMIT", "ERR_TIMEOUT", "ERR_FAILED",
}

// StatusName returns the ABI name of a status code ("OK", "ERR_MEMORY"),
// the number for a non-negative length, or "ERR(-n)" for an unknown code.
func StatusName(status int64) string {
	switch {
	case status == 0:
		return "OK"
	case status > 0:
		return strconv.FormatInt(status, 10)
	case -status-1 < int64(len(statusNames)):
		return statusNames[-status-1]
	}
	return "ERR(" + strconv.FormatInt(status, 10) + ")"
}

// LevelName returns the name of a log level ("debug", "info", "warn",
// "error"), or the number for another value.
func LevelName(level int32) string {
	switch level {
	case LevelDebug:
		return "debug"
	case LevelInfo:
		return "info"
	case LevelWarn:
		return "warn"
	case LevelError:
		return "error"
	}
	return strconv.Itoa(int(level))
}
