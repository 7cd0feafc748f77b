package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/storetest"
	"github.com/hookrt/hookd/internal/testsupport/deliverytest"
)

// TestStoredDomainDelivery (issue 18): a stored domain's "delivery" is
// judged by the same Validate as a [[domain]] table and runs the same
// way; a domain token may set literal headers and signing secrets but not
// name files in the private directory (the operator's secrets, which it
// could have sent to its own URL) nor set a proxy; the operator may, and
// the owner may keep what the operator set (GET, edit, PUT) but not
// change it.
func TestStoredDomainDelivery(t *testing.T) {
	ctx := context.Background()
	cfg := domainsConfig(t, storetest.SQLite(t))
	cfg.Storage.PrivateDir = t.TempDir()
	deliverytest.WriteSecretFile(t, cfg.Storage.PrivateDir, "d7.token", "operator-secret\n")
	deliverytest.WriteSecretFile(t, cfg.Storage.PrivateDir, "other.token", "another-secret\n")
	if err := os.Chmod(filepath.Join(cfg.Storage.PrivateDir), 0o700); err != nil {
		t.Fatal(err)
	}
	rt := openDomains(t, cfg)
	op := hook.Operator()
	tok, err := rt.CreateDomainToken(ctx, op, "7", "owner", 0)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := rt.AuthenticateDomainToken(ctx, tok.Secret)
	if err != nil {
		t.Fatal(err)
	}
	rcv := deliverytest.NewReceiver(t, nil)
	spec := func(delivery string) []byte {
		return []byte(`{"script": "` + rcv.URL + `/seven", "delivery": ` + delivery + `}`)
	}

	_, err = rt.PutDomain(ctx, owner, "7", spec(`{"headers": {"Authorization": {"file": "d7.token"}}}`))
	mustErr(t, err, hook.ErrInvalid, `domain "7": delivery: headers."Authorization": a domain token may not name files`)
	_, err = rt.PutDomain(ctx, owner, "7", spec(`{"proxy": "http://egress.example:3128"}`))
	mustErr(t, err, hook.ErrInvalid, `domain "7": delivery: proxy: a domain token may not set the egress proxy`)
	_, err = rt.PutDomain(ctx, owner, "7", spec(`{"tls": {"ca": "ca.pem"}}`))
	mustErr(t, err, hook.ErrInvalid, `delivery: tls.ca: a domain token may not name files`)
	for _, who := range []hook.Principal{owner, op} {
		_, err = rt.PutDomain(ctx, who, "7", spec(`{"headers": {"Connection": "close"}}`))
		mustErr(t, err, hook.ErrInvalid, `[[domain]] id "7": delivery: headers."Connection": `)
	}

	// The owner's own literal values: accepted, and sent.
	whsec, mac := deliverytest.Secret(t)
	if _, err := rt.PutDomain(ctx, owner, "7", spec(`{"headers": {"X-Api-Key": "owner-key"}, "signing": "standard-webhooks", "signing_secrets": ["`+whsec+`"]}`)); err != nil {
		t.Fatalf("the owner's literal header and secret: %v", err)
	}
	id, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEWSESSION", "DOMAIN_ID": "7"})
	if err != nil {
		t.Fatal(err)
	}
	r := rcv.Wait(t, 1)[0]
	if r.Header.Get("X-Api-Key") != "owner-key" {
		t.Errorf("X-Api-Key %q; want the owner's", r.Header.Get("X-Api-Key"))
	}
	deliverytest.CheckSigned(t, r, mac, id)

	// A file that is not there: refused at the write, as at start.
	_, err = rt.PutDomain(ctx, op, "7", spec(`{"headers": {"Authorization": {"file": "nope.token"}}}`))
	mustErr(t, err, hook.ErrInvalid, "nope.token")

	// The operator's file: accepted, and its line sent.
	if _, err := rt.PutDomain(ctx, op, "7", spec(`{"headers": {"Authorization": {"file": "d7.token"}}}`)); err != nil {
		t.Fatalf("the operator's header from a file: %v", err)
	}
	if _, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEWSESSION", "DOMAIN_ID": "7"}); err != nil {
		t.Fatal(err)
	}
	if got := rcv.Wait(t, 2)[1].Header.Get("Authorization"); got != "operator-secret" {
		t.Errorf("Authorization %q; want the operator's file's line", got)
	}

	// The owner keeps what the operator set (GET, PUT back), and may add
	// its own literal header beside it, but not point it at another file.
	info, err := rt.Domain(ctx, owner, "7")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.PutDomain(ctx, owner, "7", info.Spec); err != nil {
		t.Fatalf("the owner putting back what it read: %v", err)
	}
	if _, err := rt.PutDomain(ctx, owner, "7", spec(`{"headers": {"Authorization": {"file": "d7.token"}, "X-Api-Key": "k"}}`)); err != nil {
		t.Fatalf("the owner adding a literal header beside the operator's: %v", err)
	}
	_, err = rt.PutDomain(ctx, owner, "7", spec(`{"headers": {"Authorization": {"file": "other.token"}}}`))
	mustErr(t, err, hook.ErrInvalid, `delivery: headers."Authorization": a domain token may not name files`)
}
