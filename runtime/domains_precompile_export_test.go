package runtime

// SetPrecompile turns compiling stored plugin versions ahead of their
// activation on or off for the runtimes started until the test ends (off:
// a node compiles a version only when it activates it, as before).
func SetPrecompile(t interface{ Cleanup(func()) }, on bool) {
	old := precompileOff
	precompileOff = !on
	t.Cleanup(func() { precompileOff = old })
}
