package webapi_test

import (
	hookrt "github.com/hookrt/hookd/runtime"

	"strings"
	"testing"
	"time"

	"github.com/hookrt/hookd/builtin/webapi"
)

// parse loads a config document.
func parse(t testing.TB, doc string) (*hookrt.Config, error) {
	t.Helper()
	return hookrt.ParseConfig([]byte(doc), ".")
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := parse(t, "[webapi]\nurl = \"https://accounts.example/webapi2\"\nsignup = true\n")
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Modules[webapi.ID].(*webapi.Service)
	if time.Duration(s.Timeout) != 10*time.Second || s.NotificationMethod != "account/notification/1" ||
		s.SuccessCode != "ok" || s.Language != "en" || s.ForwardPassword || s.UseNotification {
		t.Errorf("defaults: %+v", s)
	}
	for doc, want := range map[string]time.Duration{
		"timeout = 5":       5 * time.Second,
		`timeout = "5s"`:    5 * time.Second,
		`timeout = "250ms"`: 250 * time.Millisecond,
		"timeout = 60":      time.Minute,
	} {
		cfg, err := parse(t, "[webapi]\nurl = \"http://h/\"\nforgot_password = true\n"+doc+"\n")
		if err != nil {
			t.Errorf("%s: %v", doc, err)
			continue
		}
		if got := time.Duration(cfg.Modules[webapi.ID].(*webapi.Service).Timeout); got != want {
			t.Errorf("%s: %s", doc, got)
		}
	}
	seed := "[webapi]\nurl = \"http://h/\"\nnotification = true\nnotification_params = '" + seedParams + "'\n"
	if _, err := parse(t, seed); err != nil {
		t.Errorf("the seed's example: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	const base = "[webapi]\nurl = \"http://h/\"\nsignup = true\n"
	for _, tc := range []struct{ name, doc, want string }{
		{"no url", "[webapi]\nsignup = true\n", "config.toml: [webapi]: url: required: the base URL of the account/1 service, e.g. https://accounts.example/webapi"},
		{"relative url", "[webapi]\nurl = \"/webapi\"\nsignup = true\n", `config.toml: [webapi]: url: must be an absolute http:// or https:// URL, got "/webapi"`},
		{"ftp url", "[webapi]\nurl = \"ftp://h/\"\nsignup = true\n", `url: must be an absolute http:// or https:// URL, got "ftp://h/"`},
		{"timeout too short", base + "timeout = \"50ms\"\n", "[webapi]: timeout: must be between 100ms and 1m, got 50ms"},
		{"timeout too long", base + "timeout = 61\n", "[webapi]: timeout: must be between 100ms and 1m, got 1m1s"},
		{"timeout float", base + "timeout = 1.5\n", "webapi.timeout"},
		{"timeout without unit", base + "timeout = \"5\"\n", `invalid duration "5"`},
		{"no params", "[webapi]\nurl = \"http://h/\"\nnotification = true\n", `[webapi]: notification_params: required when notification = true: the JSON parameters of a notification, e.g. "userName": {{name}}, "userDomain": {{domain}}`},
		{"params in quotes", base + "notification = true\nnotification_params = '\"u\": \"{{name}}\"'\n", "[webapi]: notification_params: placeholder {{name}} at byte 6 is inside a JSON string: placeholders stand for whole JSON values; do not put them inside quotes"},
		{"params unknown placeholder", base + "notification_params = '\"u\": {{user}}'\n", "[webapi]: notification_params: unknown placeholder {{user}} at byte 5"},
		{"params unclosed", base + "notification_params = '\"u\": {{name'\n", `[webapi]: notification_params: unclosed "{{" at byte 5`},
		{"params not JSON", base + "notification_params = 'userName = {{name}}'\n", "[webapi]: notification_params: template is not valid JSON once the placeholders are filled in"},
		{"bad method", base + "notification_method = \"Account/Notify\"\n", `[webapi]: notification_method: must be a method name like "account/notification/1" (lowercase letters, digits and _ in parts separated by /, ending in /<version number>), got "Account/Notify"`},
		{"method without version", base + "notification_method = \"account/notify\"\n", `notification_method: must be a method name like`},
		{"success code with space", base + "success_code = \"ok \"\n", `[webapi]: success_code: must not start or end with white space, got "ok "`},
		{"language", base + "language = \"EN\"\n", `[webapi]: language: must be a two-letter lowercase ISO 639-1 code like "en", got "EN"`},
		{"language long", base + "language = \"eng\"\n", `language: must be a two-letter lowercase ISO 639-1 code like "en", got "eng"`},
		{"unknown key", base + "sign_up = true\n", `unknown key "webapi.sign_up"; allowed in [webapi]: url, timeout, signup, notification, forgot_password, notification_params, notification_method, success_code, forward_password, language`},
		{"wrong type", "[webapi]\nurl = \"http://h/\"\nsignup = \"yes\"\n", "webapi.signup: wrong type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.doc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
}
