package delivery_test

import (
	"fmt"

	"github.com/BurntSushi/toml"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/delivery"
)

// A [jwt_webhook.delivery] table as an operator writes it: judged, its
// filter applied to two events, and shown as the targets API shows it.
func Example() {
	var cfg struct {
		Delivery hook.DeliverySettings `toml:"delivery"`
	}
	_, err := toml.Decode(`
[delivery]
headers = { Authorization = { file = "hook.token" }, "X-Tenant" = "acme" }
signing = "standard-webhooks"
signing_secrets = [{ file = "whsec-old.txt" }, { file = "whsec-new.txt" }]
filter.events = ["NEWSESSION", "ISL_CP.*"]
filter.where = { DOMAIN_ID = ["1", "42"] }
rate_limit = 50
ordered_by = "SESSIONID"
`, &cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println("valid:", delivery.Validate(&cfg.Delivery) == nil)

	keep, _ := delivery.Filter(&cfg.Delivery)
	for _, fields := range []map[string]string{
		{"MODULE": "ISL_LIGHT", "EVENT": "NEW SESSION", "DOMAIN_ID": "42"},
		{"MODULE": "ISL_LIGHT", "EVENT": "NEWSESSION", "DOMAIN_ID": "7"},
	} {
		fmt.Println(fields["EVENT"], fields["DOMAIN_ID"], "delivered:", keep(&hook.Event{Fields: fields}))
	}

	v := delivery.View(&cfg.Delivery, "http://egress.example:3128")
	fmt.Println(v.Headers)
	fmt.Println(v.Signing)
	fmt.Println(v.Proxy)
	fmt.Println(v.Filter)
	fmt.Println(v.RateLimit, "ordered by", v.OrderedBy)

	// A mistake names its key and what is allowed; the caller adds its section.
	cfg.Delivery.Headers["Connection"] = hook.Secret{Value: "close"}
	fmt.Println(delivery.Prefix("[jwt_webhook.delivery]", delivery.Validate(&cfg.Delivery)))
	// Output:
	// valid: true
	// NEW SESSION 42 delivered: true
	// NEWSESSION 7 delivered: false
	// [Authorization (from file hook.token) X-Tenant]
	// standard-webhooks: v1 with 2 secrets (rotation) from files whsec-old.txt, whsec-new.txt
	// http://egress.example:3128 (from [delivery] proxy)
	// events NEWSESSION, ISL_CP.*; DOMAIN_ID in ["1" "42"]
	// 50/s, burst 1 ordered by SESSIONID
	// [jwt_webhook.delivery] headers."Connection": a hop-by-hop header is not allowed (the transport manages the connection)
}
