package webui

import (
	"html/template"
	"strings"
	"testing"

	"github.com/hookrt/hookd/hook"
)

// TestDeliverySettingsPublicKey: the delivery settings both sites show
// (the admin page's targets, the portal's settings) give the v1a public
// key receivers need, beside the signing line; without one, no such row.
func TestDeliverySettingsPublicKey(t *testing.T) {
	t.Parallel()
	tmpl := template.Must(template.New("x").Funcs(Funcs).ParseFS(templates, "templates/shared.html"))
	render := func(v *hook.DeliveryView) string {
		t.Helper()
		var b strings.Builder
		if err := tmpl.ExecuteTemplate(&b, "delivery-settings", v); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	const key = "whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
	body := render(&hook.DeliveryView{Signing: "standard-webhooks: v1a with the Ed25519 key in swh.pem", PublicKey: key})
	want := `<dt>Signing</dt><dd>standard-webhooks: v1a with the Ed25519 key in swh.pem</dd>
<dt>Public key</dt><dd><span class="mono public-key">` + key + `</span>`
	if !strings.Contains(body, want) {
		t.Errorf("delivery-settings:\n%s\nwant it to hold\n%s", body, want)
	}
	if body := render(&hook.DeliveryView{Signing: "standard-webhooks: v1 with 1 secret"}); strings.Contains(body, "Public key") {
		t.Errorf("a public key row without a key:\n%s", body)
	}
}
