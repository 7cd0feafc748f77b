package commands_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/commands"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/testsupport/deliverytest"
)

// TestDeliverySettings (issue 18): [commands.delivery] reaches the
// XMLMSG requests: a header from a file in the private directory and a
// Standard Webhooks signature; the target carries the settings (the
// engine's rate limit and order).
func TestDeliverySettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	deliverytest.WriteSecretFile(t, dir, "xmlmsg.token", "s3cret\n")
	whsec, mac := deliverytest.Secret(t)
	rcv := deliverytest.NewReceiver(t, nil)
	settings := &hook.DeliverySettings{
		Headers:        map[string]hook.Secret{"X-Xmlmsg-Token": {File: "xmlmsg.token"}},
		Signing:        "standard-webhooks",
		SigningSecrets: []hook.Secret{{Value: whsec}},
		RateLimit:      100,
	}
	s := &commands.Sink{XMLMsgURL: rcv.URL + "/xmlmsg", Delivery: settings}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	env := hook.Env{Logger: slog.New(slog.DiscardHandler), RequestTimeout: 5 * time.Second, PrivateDir: dir}
	if err := s.Provision(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tg := s.Targets()[0]
	if tg.Delivery != settings {
		t.Fatalf("target delivery %+v; want the section's", tg.Delivery)
	}
	doc := `<module secret="x"><islLight><session id="1"><drop/></session></islLight></module>`
	ev := &hook.Event{ID: "e1", Fields: map[string]string{"MODULE": "HOOKD", "EVENT": "XMLMSG", hook.CommandFieldXML: doc}}
	if _, err := s.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	r := rcv.Wait(t, 1)[0]
	if got := r.Header.Get("X-Xmlmsg-Token"); got != "s3cret" {
		t.Errorf("X-Xmlmsg-Token %q; want the file's line", got)
	}
	deliverytest.CheckSigned(t, r, mac, "e1")
}

// TestDeliveryValidate: a bad [commands.delivery] is refused by Validate,
// naming the key, and so is a filter, which would never apply to the
// commands addressed to the sink; a header file that is not there stops
// Provision.
func TestDeliveryValidate(t *testing.T) {
	t.Parallel()
	s := &commands.Sink{XMLMsgURL: "http://localhost:7615/xmlmsg", Delivery: &hook.DeliverySettings{
		Headers: map[string]hook.Secret{"Transfer-Encoding": {Value: "chunked"}}, Burst: 3}}
	err := s.Validate()
	if err == nil || !strings.Contains(err.Error(), `delivery: headers."Transfer-Encoding": `) || !strings.Contains(err.Error(), "delivery: burst: ") {
		t.Errorf("Validate = %v; want delivery: headers.\"Transfer-Encoding\" and delivery: burst", err)
	}
	s = &commands.Sink{XMLMsgURL: "http://localhost:7615/xmlmsg", Delivery: &hook.DeliverySettings{
		Filter: hook.EventFilter{Events: []string{"HOOKD.XMLMSG"}}}}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "delivery: filter: the command sink receives the commands") {
		t.Errorf("Validate = %v; want the filter refused", err)
	}
	s = &commands.Sink{XMLMsgURL: "http://localhost:7615/xmlmsg", Delivery: &hook.DeliverySettings{
		Headers: map[string]hook.Secret{"Authorization": {File: "missing.token"}}}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	err = s.Provision(context.Background(), hook.Env{Logger: slog.New(slog.DiscardHandler), PrivateDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `delivery: headers."Authorization"`) || !strings.Contains(err.Error(), "missing.token") {
		t.Errorf("Provision = %v; want the missing file named under delivery: headers", err)
	}
}
