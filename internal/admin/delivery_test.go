package admin_test

import (
	"strings"
	"testing"

	"github.com/hookrt/hookd/internal/admin"
)

// TestTargetsDeliverySettings: only a target with delivery settings gets
// a section (and a link to it from its row); with none, the page has no
// such heading. TestPages checks what the section says.
func TestTargetsDeliverySettings(t *testing.T) {
	t.Parallel()
	fb := newFake()
	c := setup(t, fb, admin.Options{Token: testToken})
	c.login(testToken)
	body := c.get("/admin/targets").body
	if n := strings.Count(body, `<section class="delivery"`); n != 1 {
		t.Errorf("%d delivery sections, want 1 (jwt_webhook's):\n%s", n, body)
	}
	for _, name := range []string{"http_events.global", "http_events.domain.5"} {
		if strings.Contains(body, `id="delivery-`+name+`"`) || strings.Contains(body, `href="#delivery-`+name+`"`) {
			t.Errorf("%s has no delivery settings, yet the page shows a section for it", name)
		}
	}

	none := newFake()
	for i := range none.targets {
		none.targets[i].Delivery = nil
	}
	c = setup(t, none, admin.Options{Token: testToken})
	c.login(testToken)
	body = c.get("/admin/targets").body
	if strings.Contains(body, "Delivery settings") || strings.Contains(body, `class="delivery"`) {
		t.Errorf("no target has delivery settings, yet the page has the section:\n%s", body)
	}
}
