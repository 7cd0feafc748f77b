package api_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
)

// TestOpenAPIDryRunSchemas: the document's dry-run schemas name exactly
// the JSON keys of the Go types the server decodes and answers (the
// request with its sign-ups, a sign-up's result, the report's keys), so
// that a field added on one side fails here.
func TestOpenAPIDryRunSchemas(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	keys := func(typ reflect.Type) []string {
		var out []string
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "-" {
				out = append(out, name)
			}
		}
		slices.Sort(out)
		return out
	}
	op := doc.Paths.Find("/v1/domains/{id}/plugin/test").Post
	report := op.Responses.Status(200).Value.Content.Get("application/json").Schema.Value
	for _, c := range []struct {
		name string
		typ  reflect.Type
	}{
		{"DryRunRequest", reflect.TypeFor[hook.DryRunRequest]()},
		{"DryRunSignup", reflect.TypeFor[hook.DryRunSignup]()},
		{"DryRunSignupResult", reflect.TypeFor[hook.DryRunSignupResult]()},
		{"DryRunResult", reflect.TypeFor[hook.DryRunResult]()},
		{"the 200 answer", reflect.TypeFor[hook.DryRunReport]()},
	} {
		s := report
		if c.name != "the 200 answer" {
			ref := doc.Components.Schemas[c.name]
			if ref == nil || ref.Value == nil {
				t.Errorf("openapi.json has no %s schema", c.name)
				continue
			}
			s = ref.Value
		}
		var docKeys []string
		for k := range s.Properties {
			docKeys = append(docKeys, k)
		}
		slices.Sort(docKeys)
		if want := keys(c.typ); !slices.Equal(docKeys, want) {
			t.Errorf("%s: the document has %v, %s %v", c.name, docKeys, c.typ, want)
		}
	}
	item := report.Properties["signups"].Value.Items
	if item == nil || item.Ref != "#/components/schemas/DryRunSignupResult" {
		t.Errorf("the answer's signups are not DryRunSignupResults: %+v", item)
	}
	decisions := doc.Components.Schemas["DryRunSignupResult"].Value.Properties["decision"].Value.Enum
	want := []any{hook.DryRunAllow, hook.DryRunRefuse, hook.DryRunAbstain, hook.DryRunError, hook.DryRunNoExport}
	if !slices.Equal(decisions, want) {
		t.Errorf("decision enum %v, want %v", decisions, want)
	}
}
