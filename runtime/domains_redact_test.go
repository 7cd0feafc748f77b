package runtime_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/storetest"
	"github.com/hookrt/hookd/internal/testsupport/deliverytest"
	hookrt "github.com/hookrt/hookd/runtime"
)

// noSecrets fails t if what (a view's JSON) holds any of secrets.
func noSecrets(t *testing.T, view string, what []byte, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(string(what), s) {
			t.Errorf("%s shows the secret %q: %s", view, s, what)
		}
	}
}

// specOf decodes a view's settings.
func specOf(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("settings %s: %v", raw, err)
	}
	return m
}

// TestStoredDomainSecretsRedacted (issue 17, DESIGN §7): a stored
// domain's literal header values, signing secrets, a URL's token and its
// plugin config's secrets are shown by no view (Domain, Domains,
// PutDomain's answer, the active version's settings; audit details and
// version lists through RedactAudit and RedactVersions), to the operator
// or the owner, as "<redacted>", by the rule `hookd config` uses; a GET,
// edit, PUT round trip changes only what was edited, the receiver still
// getting the real header and signature; a "<redacted>" where nothing is
// stored is refused, naming the place.
func TestStoredDomainSecretsRedacted(t *testing.T) {
	ctx := context.Background()
	rt := openDomains(t, domainsConfig(t, storetest.SQLite(t)))
	op := hook.Operator()
	owner := hook.Principal{Domain: "42", TokenID: "dt_test", TokenName: "owner"}
	rcv := deliverytest.NewReceiver(t, nil)
	whsec1, mac1 := deliverytest.Secret(t)
	whsec2, _ := deliverytest.Secret(t)
	const hdr, tok = "hdr-S3CRET-1", "tok-S3CRET-2"
	secrets := []string{whsec1, whsec2, hdr, tok}

	put := `{"script": "` + rcv.URL + `/hook?token=` + tok + `&x=1", "delivery": {"headers": {"X-Key": "` + hdr + `"}, ` +
		`"signing": "standard-webhooks", "signing_secrets": ["` + whsec1 + `", "` + whsec2 + `"]}}`
	answer, err := rt.PutDomain(ctx, op, "42", []byte(put))
	if err != nil {
		t.Fatal(err)
	}
	noSecrets(t, "PutDomain's answer", answer.Spec, secrets...)
	before, err := hookrt.StoredSpec(ctx, rt, "42")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if !strings.Contains(string(before), s) {
			t.Fatalf("the stored settings lack %q: %s", s, before)
		}
	}

	// Every view, to either principal.
	var shown json.RawMessage
	for _, who := range []hook.Principal{op, owner} {
		info, err := rt.Domain(ctx, who, "42")
		if err != nil {
			t.Fatal(err)
		}
		noSecrets(t, "Domain to "+who.String(), info.Spec, secrets...)
		shown = info.Spec
		ds, err := rt.Domains(ctx, who)
		if err != nil {
			t.Fatal(err)
		}
		all, _ := json.Marshal(ds)
		noSecrets(t, "Domains to "+who.String(), all, secrets...)
	}
	m := specOf(t, shown)
	d := m["delivery"].(map[string]any)
	if got := d["headers"].(map[string]any)["X-Key"]; got != hookrt.RedactedValue {
		t.Errorf("the header's value is shown as %v; want %q", got, hookrt.RedactedValue)
	}
	if got := d["signing_secrets"].([]any); len(got) != 2 || got[0] != hookrt.RedactedValue || got[1] != hookrt.RedactedValue {
		t.Errorf("the signing secrets are shown as %v; want two %q", got, hookrt.RedactedValue)
	}
	if got, want := m["script"], rcv.URL+"/hook?token="+hookrt.RedactedValue+"&x=1"; got != want {
		t.Errorf("the script is shown as %v; want %v (its token redacted, the rest shown)", got, want)
	}

	// The round trip: the owner edits the rate limit of what it read.
	d["rate_limit"] = 7.0
	edited, _ := json.Marshal(m)
	answer, err = rt.PutDomain(ctx, owner, "42", edited)
	if err != nil {
		t.Fatalf("putting back the settings as read, one value edited: %v", err)
	}
	noSecrets(t, "PutDomain's answer", answer.Spec, secrets...)
	after, err := hookrt.StoredSpec(ctx, rt, "42")
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSONBut(t, before, after, "rate_limit") || !strings.Contains(string(after), `"rate_limit":7`) {
		t.Errorf("after the round trip the stored settings are\n%s\nwant\n%s plus rate_limit 7", after, before)
	}
	id, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_LIGHT", "EVENT": "NEWSESSION", "DOMAIN_ID": "42"})
	if err != nil {
		t.Fatal(err)
	}
	r := rcv.Wait(t, 1)[0]
	if got := r.Header.Get("X-Key"); got != hdr {
		t.Errorf("after the round trip the receiver got X-Key %q; want the stored value", got)
	}
	deliverytest.CheckSigned(t, r, mac1, id)

	// "<redacted>" where nothing secret is stored: refused by place.
	for _, c := range []struct{ id, spec, want string }{
		{"42", `{"script": "` + rcv.URL + `/hook", "delivery": {"signing": "standard-webhooks", "signing_secrets": ["<redacted>", "<redacted>", "<redacted>"]}}`,
			`domain "42": delivery.signing_secrets[2]: "<redacted>" stands for the stored secret at this place, and none is stored there; send the secret itself`},
		{"42", `{"script": "` + rcv.URL + `/hook", "delivery": {"headers": {"x-key": "<redacted>", "X-Other": "<redacted>"}}}`,
			`domain "42": delivery.headers.X-Other: "<redacted>" stands for the stored secret at this place, and none is stored there`},
		{"42", `{"script": "` + rcv.URL + `/other?token=<redacted>&x=1"}`,
			`domain "42": script: "<redacted>" stands for the stored secret at this place, and the value sent is not the stored one`},
		{"43", `{"script": "` + rcv.URL + `/hook", "delivery": {"headers": {"X-Key": "<redacted>"}}}`,
			`domain "43": delivery.headers.X-Key: "<redacted>" stands for the stored secret at this place, and none is stored there`},
	} {
		_, err := rt.PutDomain(ctx, op, c.id, []byte(c.spec))
		mustErr(t, err, hook.ErrInvalid, c.want)
	}
	if now, _ := hookrt.StoredSpec(ctx, rt, "42"); string(now) != string(after) {
		t.Errorf("a refused PUT changed the stored settings:\n%s\nwant\n%s", now, after)
	}
	// A header named in another case is the same header.
	if _, err := rt.PutDomain(ctx, owner, "42", []byte(`{"script": "`+rcv.URL+`/hook", "delivery": {"headers": {"x-key": "<redacted>"}}}`)); err != nil {
		t.Fatalf("the stored header named in lower case: %v", err)
	}
	if now, _ := hookrt.StoredSpec(ctx, rt, "42"); !strings.Contains(string(now), `"x-key":"`+hdr+`"`) {
		t.Errorf("the header named in lower case did not keep the stored value: %s", now)
	}

	for _, who := range []hook.Principal{op, owner} {
		audit, err := rt.DomainAudit(ctx, who, "42", 50)
		if err != nil {
			t.Fatal(err)
		}
		all, _ := json.Marshal(audit)
		noSecrets(t, "DomainAudit to "+who.String(), all, secrets...)
	}
	// Audit details (spec and previous of each change) by the same rule.
	audit, err := rt.DomainAudit(ctx, op, "42", 50)
	if err != nil {
		t.Fatal(err)
	}
	red := hookrt.RedactAudit(audit)
	if len(red) != len(audit) || len(red) < 3 {
		t.Fatalf("RedactAudit gave %d entries of %d", len(red), len(audit))
	}
	all, _ := json.Marshal(red)
	noSecrets(t, "the redacted audit", all, secrets...)
	if !strings.Contains(string(red[0].Detail), `"spec":`) || !strings.Contains(string(red[0].Detail), `"previous":`) ||
		strings.Index(string(red[0].Detail), `"spec"`) > strings.Index(string(red[0].Detail), `"previous"`) {
		t.Errorf("a redacted domain.put detail: %s; want spec, then previous", red[0].Detail)
	}
}

// sameJSONBut reports whether a and b (JSON objects) differ only in key.
func sameJSONBut(t *testing.T, a, b []byte, key string) bool {
	t.Helper()
	var ma, mb map[string]any
	if json.Unmarshal(a, &ma) != nil || json.Unmarshal(b, &mb) != nil {
		return false
	}
	delete(ma, key)
	delete(mb, key)
	if da, ok := ma["delivery"].(map[string]any); ok {
		delete(da, key)
	}
	if db, ok := mb["delivery"].(map[string]any); ok {
		delete(db, key)
	}
	ja, _ := json.Marshal(ma)
	jb, _ := json.Marshal(mb)
	return string(ja) == string(jb)
}

// TestStoredPluginSecretsRedacted: a plugin's config secrets, in the
// domain's settings and in a version's, are shown as "<redacted>" (the
// keys `hookd config` judges secret by name; the others shown); the
// domain's round trip keeps them; a version's settings sent back with
// "<redacted>" keep the base version's secrets (KeepSettings) and are
// refused where the base has none.
func TestStoredPluginSecretsRedacted(t *testing.T) {
	ctx := context.Background()
	rt := openDomains(t, domainsConfig(t, storetest.SQLite(t)))
	op := hook.Operator()
	owner := hook.Principal{Domain: "p1", TokenID: "dt_test", TokenName: "owner"}
	mod, sha := replyModule(t, "plug1")
	const verSecret, specSecret = "cfg-S3CRET-3", "cfg-S3CRET-4"
	settings := []byte(`{"config": {"api_token": "` + verSecret + `", "plain": "visible-value", "n": 3}}`)
	if _, err := rt.PushPlugin(ctx, owner, "p1", mod, settings, true); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, rt, "p1", true, sha)
	if _, err := rt.PutDomain(ctx, owner, "p1", []byte(`{"config": {"db": {"password": "`+specSecret+`", "user": "u"}}}`)); err != nil {
		t.Fatal(err)
	}
	info, err := rt.Domain(ctx, owner, "p1")
	if err != nil {
		t.Fatal(err)
	}
	all, _ := json.Marshal(info)
	noSecrets(t, "Domain", all, verSecret, specSecret)
	db := specOf(t, info.Spec)["config"].(map[string]any)["db"].(map[string]any)
	if db["password"] != hookrt.RedactedValue || db["user"] != "u" {
		t.Errorf("the domain's config is shown as %v; want the password redacted, the user shown", db)
	}
	if info.Plugin == nil {
		t.Fatal("Domain shows no active version")
	}
	if cfg := specOf(t, info.Plugin.Settings)["config"].(map[string]any); cfg["api_token"] != hookrt.RedactedValue || cfg["plain"] != "visible-value" || cfg["n"] != 3.0 {
		t.Errorf("the active version's config is shown as %v; want api_token redacted, the rest shown", cfg)
	}

	// The domain's round trip keeps the config secret.
	m := specOf(t, info.Spec)
	m["strict"] = true
	edited, _ := json.Marshal(m)
	if _, err := rt.PutDomain(ctx, owner, "p1", edited); err != nil {
		t.Fatalf("the round trip: %v", err)
	}
	if now, _ := hookrt.StoredSpec(ctx, rt, "p1"); !strings.Contains(string(now), specSecret) || !strings.Contains(string(now), `"strict":true`) {
		t.Errorf("after the round trip: %s", now)
	}

	// Versions' settings, and their "<redacted>" against a base.
	vs, err := rt.PluginVersions(ctx, op, "p1")
	if err != nil {
		t.Fatal(err)
	}
	all, _ = json.Marshal(vs)
	noSecrets(t, "PluginVersions", all, verSecret)
	shownVs := hookrt.RedactVersions(vs)
	all, _ = json.Marshal(shownVs)
	noSecrets(t, "RedactVersions", all, verSecret)
	kept, err := hookrt.KeepSettings("p1", shownVs[0].Settings, settings)
	if err != nil || !strings.Contains(string(kept), verSecret) || !strings.Contains(string(kept), "visible-value") {
		t.Errorf("KeepSettings of the shown settings against the stored: %s, %v", kept, err)
	}
	_, err = hookrt.KeepSettings("p1", []byte(`{"config": {"api_token": "<redacted>"}}`), nil)
	mustErr(t, err, hook.ErrInvalid, `domain "p1": plugin settings: config.api_token: "<redacted>" stands for the stored secret at this place, and none is stored there`)
	if same, err := hookrt.KeepSettings("p1", settings, nil); err != nil || string(same) != string(settings) {
		t.Errorf("KeepSettings of settings without a marker: %s, %v; want them unchanged", same, err)
	}
	if same, err := hookrt.KeepSettings("p1", []byte(`{"confg": {"api_token": "<redacted>"}}`), settings); err != nil || !strings.Contains(string(same), "confg") {
		t.Errorf("KeepSettings of settings with an unknown key: %s, %v; want them unchanged, for the strict decoding to refuse", same, err)
	}
	// An upload with the settings as shown keeps the active version's
	// secret; a "<redacted>" where it has none is refused.
	pv, err := rt.PushPlugin(ctx, owner, "p1", mod, shownVs[0].Settings, false)
	if err != nil {
		t.Fatalf("an upload with the settings as shown: %v", err)
	}
	if raw, err := hookrt.StoredVersionSettings(ctx, rt, "p1", pv.Version); err != nil || !strings.Contains(string(raw), verSecret) {
		t.Errorf("the upload's stored settings: %s, %v; want the active version's secret kept", raw, err)
	}
	all, _ = json.Marshal(pv)
	noSecrets(t, "PushPlugin's answer", all, verSecret)
	_, err = rt.PushPlugin(ctx, owner, "p1", mod, []byte(`{"config": {"new_secret": "<redacted>"}}`), false)
	mustErr(t, err, hook.ErrInvalid, `config.new_secret: "<redacted>" stands for the stored secret at this place, and none is stored there`)
	// Against the active version (0), or a named one.
	for _, v := range []int{0, 1} {
		kept, err := hookrt.KeepVersionSecrets(ctx, rt, "p1", v, shownVs[0].Settings)
		if err != nil || !strings.Contains(string(kept), verSecret) {
			t.Errorf("KeepVersionSecrets against version %d: %s, %v", v, kept, err)
		}
	}
	_, err = hookrt.KeepVersionSecrets(ctx, rt, "nothing-stored", 0, shownVs[0].Settings)
	mustErr(t, err, hook.ErrInvalid, `domain "nothing-stored": plugin settings: config.api_token: "<redacted>" stands for the stored secret at this place, and none is stored there`)
}
