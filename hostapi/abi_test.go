package hostapi

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestABIDocument checks the constants and the function table against
// ABI.md, so the two cannot drift apart.
func TestABIDocument(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("ABI.md")
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]int32{
		"OK": OK, "ERR_BAD_ARGUMENT": ErrBadArgument, "ERR_MEMORY": ErrMemory, "ERR_NOT_FOUND": ErrNotFound,
		"ERR_TOO_LARGE": ErrTooLarge, "ERR_DENIED": ErrDenied, "ERR_LIMIT": ErrLimit, "ERR_TIMEOUT": ErrTimeout,
		"ERR_FAILED": ErrFailed,
	}
	rows := regexp.MustCompile("(?m)^\\| (-?[0-9]+) \\| `([A-Z_]+)` \\|").FindAllStringSubmatch(string(doc), -1)
	if len(rows) != len(codes) {
		t.Fatalf("ABI.md lists %d status codes, the package %d", len(rows), len(codes))
	}
	for _, r := range rows {
		v, _ := strconv.Atoi(r[1])
		if got, ok := codes[r[2]]; !ok || got != int32(v) {
			t.Errorf("ABI.md: %s = %s; package: %d (known %v)", r[2], r[1], got, ok)
		}
		if StatusName(int64(v)) != r[2] {
			t.Errorf("StatusName(%d) = %q, want %q", v, StatusName(int64(v)), r[2])
		}
	}

	// Imports block: "name (p type, …) -> type".
	sig := regexp.MustCompile(`(?m)^([a-z_]+) +\(([^)]*)\) -> (i32|i64)`)
	seen := map[string]bool{}
	for _, m := range sig.FindAllStringSubmatch(string(doc), -1) {
		name := m[1]
		if strings.HasPrefix(name, "hookd_v1") || name == "_initialize" {
			continue
		}
		seen[name] = true
		f, ok := Signature(name)
		if !ok {
			t.Errorf("ABI.md documents %s, the module has no such function", name)
			continue
		}
		var want []string
		for _, p := range strings.Split(m[2], ",") {
			if f := strings.Fields(p); len(f) == 2 {
				want = append(want, f[1])
			}
		}
		if got := typeNames(f.Params); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: params %v, ABI.md %v", name, got, want)
		}
		if got := typeNames(f.Results); len(got) != 1 || got[0] != m[3] {
			t.Errorf("%s: results %v, ABI.md %s", name, got, m[3])
		}
	}
	for _, n := range Names() {
		if !seen[n] {
			t.Errorf("function %s is not documented in ABI.md", n)
		}
	}
}

func typeNames(ts []ValueType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}

func TestStatusName(t *testing.T) {
	t.Parallel()
	for in, want := range map[int64]string{0: "OK", 12: "12", -2: "ERR_MEMORY", -99: "ERR(-99)"} {
		if got := StatusName(in); got != want {
			t.Errorf("StatusName(%d) = %q, want %q", in, got, want)
		}
	}
}
