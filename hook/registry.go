package hook

import (
	"fmt"
	"sort"
)

// ModuleInfo describes a built-in module: its ID, which is also the name of
// its config section (e.g. "jwt_webhook"), and a constructor of its zero
// value, into which that section is decoded.
type ModuleInfo struct {
	ID  string
	New func() Module
}

// Registry maps module IDs to their [ModuleInfo]. Tests build their own
// registry rather than mutating a global one.
type Registry struct {
	mods map[string]ModuleInfo
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{mods: map[string]ModuleInfo{}} }

// Register adds info and panics if its ID is empty or already taken: that is
// a programming error found at start-up.
func (r *Registry) Register(info ModuleInfo) {
	if err := r.RegisterSafely(info); err != nil {
		panic(err)
	}
}

// RegisterSafely adds info, or returns an error if its ID is empty or taken.
func (r *Registry) RegisterSafely(info ModuleInfo) error {
	if info.ID == "" || info.New == nil {
		return fmt.Errorf("hook: module info needs an ID and a New function")
	}
	if _, dup := r.mods[info.ID]; dup {
		return fmt.Errorf("hook: module %q already registered", info.ID)
	}
	r.mods[info.ID] = info
	return nil
}

// Lookup returns the module registered under id.
func (r *Registry) Lookup(id string) (ModuleInfo, bool) {
	info, ok := r.mods[id]
	return info, ok
}

// IDs returns the registered IDs, sorted.
func (r *Registry) IDs() []string {
	ids := make([]string, 0, len(r.mods))
	for id := range r.mods {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
