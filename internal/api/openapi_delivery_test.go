package api_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/hookrt/hookd/hook"
)

// TestOpenAPIDeliveryView: GET /v1/targets answers each target's delivery
// settings as hook.DeliveryView; the document names every one of its
// fields (and no other), and an answer carrying all of them validates
// against the operation's schema. The live test (TestOpenAPIMatchesServer)
// checks a real runtime's answer; this one does not wait for a target to
// have every setting.
func TestOpenAPIDeliveryView(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	ref := doc.Components.Schemas["DeliveryView"]
	if ref == nil || ref.Value == nil {
		t.Fatal("openapi.json has no DeliveryView schema")
	}
	status := doc.Components.Schemas["TargetStatus"].Value
	if p := status.Properties["delivery"]; p == nil || p.Ref != "#/components/schemas/DeliveryView" {
		t.Errorf("TargetStatus.delivery is not a DeliveryView: %+v", p)
	}

	var goFields []string
	for f := range reflect.TypeFor[hook.DeliveryView]().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		goFields = append(goFields, name)
	}
	var docFields []string
	for name := range ref.Value.Properties {
		docFields = append(docFields, name)
	}
	slices.Sort(goFields)
	slices.Sort(docFields)
	if !slices.Equal(goFields, docFields) {
		t.Errorf("hook.DeliveryView has %v, the document's DeliveryView %v", goFields, docFields)
	}

	since := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	answer, err := json.Marshal(map[string][]hook.TargetStatus{"targets": {{
		Name: "http_events.domain.42", State: hook.TargetEnabled, Breaker: "closed", Since: &since,
		Delivery: &hook.DeliveryView{
			Headers:   []string{"Authorization (from file domain42.token)", "X-Tenant"},
			Signing:   "standard-webhooks: v1 with 2 secrets (rotation), v1a with the Ed25519 key in swh.pem",
			PublicKey: "whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
			TLS:       "client certificate client.pem (CN=hookd), CA ca.pem",
			Proxy:     "http://egress:3128 (from [delivery] proxy)",
			Filter:    "events NEWSESSION, SESSION_END; DOMAIN_ID in [1 42]",
			RateLimit: "50/s, burst 10: 25/s on this node of 2",
			OrderedBy: "SESSIONID",
		},
	}, {Name: "jwt_webhook", State: hook.TargetEnabled, Breaker: "closed"}}})
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(answer, &v); err != nil {
		t.Fatal(err)
	}
	op := doc.Paths.Find("/v1/targets").Get
	schema := op.Responses.Status(200).Value.Content.Get("application/json").Schema.Value
	if err := schema.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("a targets answer with delivery settings does not validate: %v\n%s", err, answer)
	}
	// The schema says what each property is: a wrong type is refused.
	bad := strings.Replace(string(answer), `"ordered_by":"SESSIONID"`, `"ordered_by":["SESSIONID"]`, 1)
	if err := json.Unmarshal([]byte(bad), &v); err != nil {
		t.Fatal(err)
	}
	if err := schema.VisitJSON(v, openapi3.EnableJSONSchema2020()); err == nil {
		t.Errorf("an ordered_by that is a list validates")
	}
	// A public key that is no whpk_ key is refused (the pattern is read).
	bad = strings.Replace(string(answer), `"public_key":"whpk_`, `"public_key":"MCow`, 1)
	if err := json.Unmarshal([]byte(bad), &v); err != nil {
		t.Fatal(err)
	}
	if err := schema.VisitJSON(v, openapi3.EnableJSONSchema2020()); err == nil {
		t.Errorf("a public_key without whpk_ validates")
	}
}

// TestOpenAPIDeliverySettings: a stored domain's "delivery" (PUT
// /v1/domains/{id}) is described by the document's DeliverySettings,
// whose keys are exactly hook.DeliverySettings' JSON keys (and its tls and
// filter tables'); settings using every key, as hookd writes them,
// validate, and an unknown key or signing scheme is refused, as the server
// refuses them.
func TestOpenAPIDeliverySettings(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	spec := doc.Components.Schemas["DomainSpec"].Value
	if p := spec.Properties["delivery"]; p == nil || p.Ref != "#/components/schemas/DeliverySettings" {
		t.Fatalf("DomainSpec.delivery is not a DeliverySettings: %+v", p)
	}
	ds := doc.Components.Schemas["DeliverySettings"].Value
	for _, c := range []struct {
		what   string
		typ    reflect.Type
		schema *openapi3.Schema
	}{
		{"DeliverySettings", reflect.TypeFor[hook.DeliverySettings](), ds},
		{"DeliverySettings.tls", reflect.TypeFor[hook.TLSSettings](), ds.Properties["tls"].Value},
		{"DeliverySettings.filter", reflect.TypeFor[hook.EventFilter](), ds.Properties["filter"].Value},
	} {
		var goKeys, docKeys []string
		for f := range c.typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			goKeys = append(goKeys, name)
		}
		for name := range c.schema.Properties {
			docKeys = append(docKeys, name)
		}
		slices.Sort(goKeys)
		slices.Sort(docKeys)
		if !slices.Equal(goKeys, docKeys) {
			t.Errorf("%s: Go has %v, the document %v", c.what, goKeys, docKeys)
		}
	}

	full, err := json.Marshal(map[string]any{"script": "https://acme.example/events", "delivery": hook.DeliverySettings{
		Headers:        map[string]hook.Secret{"X-Tenant": {Value: "acme"}, "Authorization": {File: "acme.token"}},
		Signing:        "standard-webhooks",
		SigningSecrets: []hook.Secret{{File: "old.whsec"}, {Value: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}},
		SigningKey:     "swh.pem",
		TLS:            hook.TLSSettings{ClientCert: "c.pem", ClientKey: "k.pem", CA: "ca.pem"},
		Proxy:          "http://egress:3128",
		Filter:         hook.EventFilter{Events: []string{"ISL_LIGHT.*"}, Where: map[string]hook.Values{"DOMAIN_ID": {"1", "42"}, "X": {"!y"}}},
		RateLimit:      12.5, Burst: 3, OrderedBy: "SESSIONID",
	}})
	if err != nil {
		t.Fatal(err)
	}
	validate := func(body string) error {
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
		return spec.VisitJSON(v, openapi3.EnableJSONSchema2020())
	}
	if err := validate(string(full)); err != nil {
		t.Errorf("settings with every key do not validate: %v\n%s", err, full)
	}
	if err := validate(`{"delivery": {"filter": {"where": {"DOMAIN_ID": "42"}}, "headers": {"X-A": {"value": "v"}}}}`); err != nil {
		t.Errorf("a single where value, a {value} header: %v", err)
	}
	for _, bad := range []string{
		`{"delivery": {"header": {"X-A": "b"}}}`,
		`{"delivery": {"signing": "hmac"}}`,
		`{"delivery": {"headers": {"X-A": {"path": "f"}}}}`,
		`{"delivery": {"tls": {"cert": "c.pem"}}}`,
		`{"delivery": {"rate_limit": -1}}`,
	} {
		if validate(bad) == nil {
			t.Errorf("%s validates; the server refuses it", bad)
		}
	}
}
