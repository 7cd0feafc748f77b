package hostapi

import (
	"context"
	"strconv"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Names of the contract. The version is in every name: a v2 ABI would be a
// different module ("hookd_v2") with a different entry point, and a host
// refuses a plugin whose names it does not know (see ABI.md, "Version
// handshake").
const (
	// ModuleName is the module the host functions are exported from.
	ModuleName = "hookd_v1"
	// Version is the ABI version this package implements.
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

// Fixed limits of the ABI (the per-plugin ones have defaults below).
const (
	MaxEvent           = 64 << 10 // bytes of field names and values in one event
	MaxLogLine         = 1 << 10  // bytes kept of one log line
	MaxLogLines        = 32       // log lines per call, then ErrLimit
	MaxErrorMessage    = 1 << 10  // bytes kept of the error_set message
	MaxHTTPRequest     = 64 << 10 // bytes of one http_request request object
	MaxClaims          = 64 << 10 // bytes of one jwt_sign claims object
	MaxRedirects       = 5        // redirects followed by one http_request
	MaxHostCallRecords = 256      // host calls recorded per call (all are counted)
	TokenLifetime      = 300 * time.Second
)

// Defaults of the per-plugin limits.
const (
	DefaultMaxReply        = 16 << 10
	DefaultHTTPTimeout     = 5 * time.Second
	DefaultHTTPMaxRequests = 4
	DefaultHTTPMaxResponse = 1 << 20
)

// Names of the host functions.
const (
	FuncEventLen    = "event_len"
	FuncEventRead   = "event_read"
	FuncEventGet    = "event_get"
	FuncReplySet    = "reply_set"
	FuncErrorSet    = "error_set"
	FuncLog         = "log"
	FuncNowMs       = "now_ms"
	FuncDeadlineMs  = "deadline_ms"
	FuncConfigRead  = "config_read"
	FuncJWTSign     = "jwt_sign"
	FuncHTTPRequest = "http_request"
	FuncResultRead  = "result_read"
)

// StatusName returns the ABI name of a status code ("OK", "ERR_MEMORY"), or
// the number for a non-negative length.
func StatusName(status int64) string {
	switch status {
	case int64(ErrBadArgument):
		return "ERR_BAD_ARGUMENT"
	case int64(ErrMemory):
		return "ERR_MEMORY"
	case int64(ErrNotFound):
		return "ERR_NOT_FOUND"
	case int64(ErrTooLarge):
		return "ERR_TOO_LARGE"
	case int64(ErrDenied):
		return "ERR_DENIED"
	case int64(ErrLimit):
		return "ERR_LIMIT"
	case int64(ErrTimeout):
		return "ERR_TIMEOUT"
	case int64(ErrFailed):
		return "ERR_FAILED"
	case 0:
		return "OK"
	}
	if status > 0 {
		return strconv.FormatInt(status, 10)
	}
	return "ERR(" + strconv.FormatInt(status, 10) + ")"
}

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// hostFunc is one function of the module: its name, signature and Go code.
type hostFunc struct {
	name    string
	params  []api.ValueType
	names   []string
	results []api.ValueType
	fn      api.GoModuleFunc
}

// functions is the module, in ABI.md's order.
var functions = []hostFunc{
	{FuncEventLen, nil, nil, []api.ValueType{i32}, wrap32(FuncEventLen, eventLen)},
	{FuncEventRead, []api.ValueType{i32, i32}, []string{"buf", "buf_len"}, []api.ValueType{i32}, wrap32(FuncEventRead, eventRead)},
	{FuncEventGet, []api.ValueType{i32, i32, i32, i32}, []string{"name", "name_len", "buf", "buf_len"}, []api.ValueType{i32}, wrap32(FuncEventGet, eventGet)},
	{FuncReplySet, []api.ValueType{i32, i32}, []string{"ptr", "len"}, []api.ValueType{i32}, wrap32(FuncReplySet, replySet)},
	{FuncErrorSet, []api.ValueType{i32, i32}, []string{"ptr", "len"}, []api.ValueType{i32}, wrap32(FuncErrorSet, errorSet)},
	{FuncLog, []api.ValueType{i32, i32, i32}, []string{"level", "ptr", "len"}, []api.ValueType{i32}, wrap32(FuncLog, logLine)},
	{FuncNowMs, nil, nil, []api.ValueType{i64}, wrap64(FuncNowMs, nowMs)},
	{FuncDeadlineMs, nil, nil, []api.ValueType{i64}, wrap64(FuncDeadlineMs, deadlineMs)},
	{FuncConfigRead, []api.ValueType{i32, i32}, []string{"buf", "buf_len"}, []api.ValueType{i32}, wrap32(FuncConfigRead, configRead)},
	{FuncJWTSign, []api.ValueType{i32, i32, i32, i32}, []string{"key", "key_len", "claims", "claims_len"}, []api.ValueType{i32}, wrap32(FuncJWTSign, jwtSign)},
	{FuncHTTPRequest, []api.ValueType{i32, i32}, []string{"req", "req_len"}, []api.ValueType{i32}, wrap32(FuncHTTPRequest, httpRequest)},
	{FuncResultRead, []api.ValueType{i32, i32}, []string{"buf", "buf_len"}, []api.ValueType{i32}, wrap32(FuncResultRead, resultRead)},
}

// Signature returns the parameter and result types of the host function
// name, and false if [ModuleName] has no such function. A host uses it to
// refuse, at load time and with a clear message, a plugin that imports a
// function that does not exist or has another type.
func Signature(name string) (params, results []api.ValueType, ok bool) {
	for _, f := range functions {
		if f.name == name {
			return f.params, f.results, true
		}
	}
	return nil, nil, false
}

// Names returns the names of the host functions, in ABI.md's order.
func Names() []string {
	out := make([]string, len(functions))
	for i, f := range functions {
		out[i] = f.name
	}
	return out
}

// MustInstantiate calls [Instantiate] or panics on error.
func MustInstantiate(ctx context.Context, r wazero.Runtime) {
	if _, err := Instantiate(ctx, r); err != nil {
		panic(err)
	}
}

// Instantiate instantiates the [ModuleName] module into r. Call it once per
// runtime, before instantiating plugins.
//
//	if _, err := hostapi.Instantiate(ctx, r); err != nil { … }
//
// # Notes
//
//   - The functions are stack-based Go functions (api.GoModuleFunc), with no
//     reflection and no allocation on the common paths.
//   - They find their state through the ctx of the guest call: see
//     [WithCall].
//   - Closing r has the same effect as closing the result.
func Instantiate(ctx context.Context, r wazero.Runtime) (api.Closer, error) {
	b := r.NewHostModuleBuilder(ModuleName)
	for _, f := range functions {
		fb := b.NewFunctionBuilder().WithGoModuleFunction(f.fn, f.params, f.results)
		if len(f.names) > 0 {
			fb = fb.WithParameterNames(f.names...)
		}
		b = fb.Export(f.name)
	}
	return b.Instantiate(ctx)
}
