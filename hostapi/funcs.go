package hostapi

// ValueType is a WebAssembly value type, with the value of its binary
// encoding (the same numbers wazero's api.ValueType uses).
type ValueType byte

// The value types of the ABI.
const (
	I32 ValueType = 0x7f
	I64 ValueType = 0x7e
)

// String returns "i32" or "i64".
func (t ValueType) String() string {
	switch t {
	case I32:
		return "i32"
	case I64:
		return "i64"
	}
	return "unknown"
}

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
	FuncStateGet    = "state_get"
	FuncStateSet    = "state_set"
	FuncStateIncr   = "state_incr"
	FuncStateDelete = "state_delete"
)

// Effectful reports whether the host function name acts outside the
// plugin (signs with a key, makes a request, reads or writes durable
// state), as opposed to reading its event, setting its reply or logging:
// the calls an operator counts (hookd_plugin_host_calls_total).
func Effectful(name string) bool {
	switch name {
	case FuncJWTSign, FuncHTTPRequest, FuncStateGet, FuncStateSet, FuncStateIncr, FuncStateDelete:
		return true
	}
	return false
}

// Func is the signature of one host function.
type Func struct {
	Name       string
	Params     []ValueType
	ParamNames []string
	Results    []ValueType
}

// functions is the module, in ABI.md's order.
var functions = []Func{
	{FuncEventLen, nil, nil, []ValueType{I32}},
	{FuncEventRead, []ValueType{I32, I32}, []string{"buf", "buf_len"}, []ValueType{I32}},
	{FuncEventGet, []ValueType{I32, I32, I32, I32}, []string{"name", "name_len", "buf", "buf_len"}, []ValueType{I32}},
	{FuncReplySet, []ValueType{I32, I32}, []string{"ptr", "len"}, []ValueType{I32}},
	{FuncErrorSet, []ValueType{I32, I32}, []string{"ptr", "len"}, []ValueType{I32}},
	{FuncLog, []ValueType{I32, I32, I32}, []string{"level", "ptr", "len"}, []ValueType{I32}},
	{FuncNowMs, nil, nil, []ValueType{I64}},
	{FuncDeadlineMs, nil, nil, []ValueType{I64}},
	{FuncConfigRead, []ValueType{I32, I32}, []string{"buf", "buf_len"}, []ValueType{I32}},
	{FuncJWTSign, []ValueType{I32, I32, I32, I32}, []string{"key", "key_len", "claims", "claims_len"}, []ValueType{I32}},
	{FuncHTTPRequest, []ValueType{I32, I32}, []string{"req", "req_len"}, []ValueType{I32}},
	{FuncResultRead, []ValueType{I32, I32}, []string{"buf", "buf_len"}, []ValueType{I32}},
	{FuncStateGet, []ValueType{I32, I32, I32, I32}, []string{"key", "key_len", "buf", "buf_len"}, []ValueType{I32}},
	{FuncStateSet, []ValueType{I32, I32, I32, I32, I64}, []string{"key", "key_len", "val", "val_len", "ttl_ms"}, []ValueType{I32}},
	{FuncStateIncr, []ValueType{I32, I32, I64, I64, I32}, []string{"key", "key_len", "delta", "ttl_ms", "out"}, []ValueType{I32}},
	{FuncStateDelete, []ValueType{I32, I32}, []string{"key", "key_len"}, []ValueType{I32}},
}

// Functions returns the signature of every host function of [ModuleName],
// in ABI.md's order. The result is a copy.
func Functions() []Func {
	out := make([]Func, len(functions))
	copy(out, functions)
	return out
}

// Signature returns the signature of the host function name, and false if
// [ModuleName] has no such function. A host uses it to refuse, at load
// time and with a clear message, a plugin that imports a function that
// does not exist or has another type.
func Signature(name string) (Func, bool) {
	for _, f := range functions {
		if f.Name == name {
			return f, true
		}
	}
	return Func{}, false
}

// Names returns the names of the host functions, in ABI.md's order.
func Names() []string {
	out := make([]string, len(functions))
	for i, f := range functions {
		out[i] = f.Name
	}
	return out
}
