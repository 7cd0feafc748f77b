package runtime

import "time"

// AdvancePruneClock moves the clock rt's precompiler prunes by (its
// modulePruneEvery timer) d ahead, and has it scan: the slow timer is
// tested without waiting for it.
func AdvancePruneClock(rt *Runtime, d time.Duration) {
	f := func() time.Time { return time.Now().Add(d) }
	rt.domains.pre.clock.Store(&f)
	rt.domains.pre.kick()
}

// ModulePruneEvery is how often a node prunes its module files without a
// delete.
const ModulePruneEvery = modulePruneEvery

// AfterDelete is what a node does once it deleted a plugin version or a
// domain: ask for a prune (the coordinator wires it into the deletes).
func AfterDelete(rt *Runtime) { rt.domains.afterDelete() }
