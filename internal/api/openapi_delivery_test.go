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
			Signing:   "standard-webhooks: v1 with 2 secrets (rotation), v1a whpk_MCowBQYDK2VwAyEA",
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
}
