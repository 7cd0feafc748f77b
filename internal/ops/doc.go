// Package ops is the room of hookd's operations: what the API, the admin
// page, the domain owners' portal and the CLI show of the delivery log,
// and who may see which part of it.
//
// Before it, each view parsed the delivery-log query ("since", states,
// paging) on its own, with its own limits and its own words for the same
// mistake, and each decided on its own what its user may see. Here there
// is one parser ([ParseList], [ParseReplay], [ParseSince]) and one scope
// ([Ops.Scope]): the operator sees everything; the owner of a domain
// (a [hook.Principal] authenticated by a domain token) sees only its
// domain's target, and anything else is [hook.ErrNotFound], exactly as
// if it did not exist, never a "forbidden" that says it does.
//
//	o := ops.New(rt, ops.Options{Stats: rec.Snapshot, Config: cfg.Redacted})
//	f, err := ops.ParseList(r.URL.Query(), time.Now(), ops.Strict)
//	ds, err := o.Scope(who).Deliveries(ctx, f)
//
// The package also owns the recent-outcomes chart ([Recorder], [Stats],
// [Summarize], [Chart]), the redacted config and the plugins' status, so
// that the admin page no longer imports the runtime for them.
package ops
