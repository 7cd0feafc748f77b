package api_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hookrt/hookd/builtin/webapi"
)

// documentOperations returns the operations of openapi.json as
// "METHOD /path", sorted.
func documentOperations(t *testing.T) []string {
	t.Helper()
	var ops []string
	for path, item := range loadOpenAPI(t).Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}

// registeredRoutes returns the ServeMux patterns hookd's HTTP API serves:
// every string literal registered with Handle or HandleFunc in this
// package (New and NewPublic), the routes of modules (the External
// WebAPI's), and the routes `hookd serve` adds (hook.Route literals in
// cmd/hookd: the admin page). Reading the source, rather than a list kept
// by hand, is what makes a route added to server.go fail this test until
// the document describes it.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, dir := range []string{".", filepath.Join("..", "..", "cmd", "hookd")} {
		for _, lit := range routeLiterals(t, dir) {
			seen[lit] = true
		}
	}
	// Modules add routes through hook.RouteProvider; the External WebAPI
	// is the only one. Another would have to be added here.
	if got := routeProviders(t); !slices.Equal(got, []string{"webapi"}) {
		t.Errorf("modules with routes: %q; add the new ones' routes to this test and to openapi.json", got)
	}
	for _, r := range (&webapi.Service{}).Routes() {
		seen[r.Pattern] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

// routeProviders returns the packages under builtin/ that declare a
// method Routes() []hook.Route (a hook.RouteProvider).
func routeProviders(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "builtin", "*", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Name.Name != "Routes" || fn.Type.Results == nil || len(fn.Type.Results.List) != 1 {
				continue
			}
			if arr, ok := fn.Type.Results.List[0].Type.(*ast.ArrayType); ok {
				if sel, ok := arr.Elt.(*ast.SelectorExpr); ok && sel.Sel.Name == "Route" && !slices.Contains(out, f.Name.Name) {
					out = append(out, f.Name.Name)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// routeLiterals parses the non-test Go files of dir and returns the
// string literals passed as the pattern of x.Handle and x.HandleFunc, and
// as the Pattern of a hook.Route literal.
func routeLiterals(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	str := func(e ast.Expr) {
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil {
				out = append(out, s)
			}
		}
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Handle" || sel.Sel.Name == "HandleFunc") && len(n.Args) == 2 {
					str(n.Args[0])
				}
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Route" {
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							if id, ok := kv.Key.(*ast.Ident); ok && id.Name == "Pattern" {
								str(kv.Value)
							}
						}
					}
				}
			}
			return true
		})
	}
	return out
}

// TestOpenAPICoversEveryRoute: every route registered on the API's mux is
// in openapi.json, and every operation of the document is a registered
// route, so that neither can change without the other.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	ops := documentOperations(t)
	routes := registeredRoutes(t)
	if len(routes) < 15 {
		t.Fatalf("found only %d routes in the source (%q): has registration moved?", len(routes), routes)
	}
	// matches reports whether a mux pattern serves an operation: the same
	// path, and the same method unless the pattern has none (the admin
	// page's "/admin/" takes every method).
	matches := func(pattern, op string) bool {
		pm, pp, hasMethod := strings.Cut(pattern, " ")
		if !hasMethod {
			pm, pp = "", pattern
		}
		om, opath, _ := strings.Cut(op, " ")
		return pp == opath && (pm == "" || pm == om)
	}
	for _, r := range routes {
		if !slices.ContainsFunc(ops, func(op string) bool { return matches(r, op) }) {
			t.Errorf("route %q is registered but not in openapi.json", r)
		}
	}
	for _, op := range ops {
		if !slices.ContainsFunc(routes, func(r string) bool { return matches(r, op) }) {
			t.Errorf("openapi.json describes %q, which no route serves", op)
		}
	}
}
