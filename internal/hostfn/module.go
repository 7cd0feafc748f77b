package hostfn

import (
	"context"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/hookrt/hookd/hostapi"
)

// impls are the Go functions behind hostapi's table, by name.
var impls = map[string]api.GoModuleFunc{
	hostapi.FuncEventLen:    wrap32(hostapi.FuncEventLen, eventLen),
	hostapi.FuncEventRead:   wrap32(hostapi.FuncEventRead, eventRead),
	hostapi.FuncEventGet:    wrap32(hostapi.FuncEventGet, eventGet),
	hostapi.FuncReplySet:    wrap32(hostapi.FuncReplySet, replySet),
	hostapi.FuncErrorSet:    wrap32(hostapi.FuncErrorSet, errorSet),
	hostapi.FuncLog:         wrap32(hostapi.FuncLog, logLine),
	hostapi.FuncNowMs:       wrap64(hostapi.FuncNowMs, nowMs),
	hostapi.FuncDeadlineMs:  wrap64(hostapi.FuncDeadlineMs, deadlineMs),
	hostapi.FuncConfigRead:  wrap32(hostapi.FuncConfigRead, configRead),
	hostapi.FuncJWTSign:     wrap32(hostapi.FuncJWTSign, jwtSign),
	hostapi.FuncHTTPRequest: wrap32(hostapi.FuncHTTPRequest, httpRequest),
	hostapi.FuncResultRead:  wrap32(hostapi.FuncResultRead, resultRead),
	hostapi.FuncStateGet:    wrap32(hostapi.FuncStateGet, stateGet),
	hostapi.FuncStateSet:    wrap32(hostapi.FuncStateSet, stateSet),
	hostapi.FuncStateIncr:   wrap32(hostapi.FuncStateIncr, stateIncr),
	hostapi.FuncStateDelete: wrap32(hostapi.FuncStateDelete, stateDelete),
}

// ValueTypes converts the ABI's value types to wazero's (the numbers are
// the same: both are the binary encoding).
func ValueTypes(ts []hostapi.ValueType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		out[i] = api.ValueType(t)
	}
	return out
}

// Instantiate instantiates the hostapi.ModuleName module into r, with one
// Go function per entry of hostapi.Functions. Call it once per runtime,
// before instantiating plugins.
//
//	if _, err := hostfn.Instantiate(ctx, r); err != nil { … }
//
// # Notes
//
//   - The functions are stack-based Go functions (api.GoModuleFunc), with
//     no reflection and no allocation on the common paths.
//   - They find their state through the ctx of the guest call: see
//     [WithCall].
//   - Closing r has the same effect as closing the result.
func Instantiate(ctx context.Context, r wazero.Runtime) (api.Closer, error) {
	b := r.NewHostModuleBuilder(hostapi.ModuleName)
	for _, f := range hostapi.Functions() {
		fn, ok := impls[f.Name]
		if !ok {
			return nil, fmt.Errorf("hostfn: no implementation of %s.%s", hostapi.ModuleName, f.Name)
		}
		fb := b.NewFunctionBuilder().WithGoModuleFunction(fn, ValueTypes(f.Params), ValueTypes(f.Results))
		if len(f.ParamNames) > 0 {
			fb = fb.WithParameterNames(f.ParamNames...)
		}
		b = fb.Export(f.Name)
	}
	return b.Instantiate(ctx)
}
