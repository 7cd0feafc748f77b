package webapi_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/hookrt/hookd/builtin/webapi"
	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/hooktest"
	"github.com/hookrt/hookd/internal/testsupport"
	"github.com/hookrt/hookd/internal/testsupport/teststore"
	hookrt "github.com/hookrt/hookd/runtime"
)

// accountService runs examples/account-service on addr with db, until
// the returned stop function (or the test's end).
func accountService(t *testing.T, bin, addr, db string) (stop func()) {
	t.Helper()
	cmd := exec.Command(bin, "-listen", addr, "-db", db)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop = func() { cmd.Process.Kill(); <-done }
	t.Cleanup(stop)
	for deadline := time.Now().Add(hooktest.Patience); ; time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return stop
		}
		select {
		case <-done:
			t.Fatalf("account-service exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("account-service did not listen: %s", out.String())
		}
	}
}

// buildAccountService builds examples/account-service once for the test
// binary (TestMain removes it), for every test that runs it; under
// -short the test is skipped instead.
func buildAccountService(t *testing.T) string {
	t.Helper()
	testsupport.Short(t, "examples/account-service built")
	bin, err := accountServiceBuild()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// accountServiceDir is where accountServiceBuild put the binary.
var accountServiceDir string

var accountServiceBuild = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "hookd-account-service")
	if err != nil {
		return "", err
	}
	accountServiceDir = dir
	bin := filepath.Join(dir, "account-service")
	if out, err := exec.Command("go", "build", "-o", bin, "../../examples/account-service").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build examples/account-service: %v\n%s", err, out)
	}
	return bin, nil
})

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func openRuntime(t *testing.T, dir, serviceAddr string, obs *hooktest.Observations) *hookrt.Runtime {
	t.Helper()
	// A first start finds a migrated store (teststore: the migration is
	// not what these tests are about); a restart finds what it left.
	if _, err := os.Stat(filepath.Join(dir, "hookd.db")); errors.Is(err, fs.ErrNotExist) {
		teststore.MigratedSQLite(t, filepath.Join(dir, "hookd.db"))
	}
	cfg, err := hookrt.ParseConfig([]byte(fmt.Sprintf(`
[store]
path = "hookd.db"
[delivery]
retry_schedule = ["100ms"]
jitter = 0
poll_interval = "20ms"
breaker_threshold = 1000
[webapi]
url = "http://%s/webapi"
timeout = 5
signup = true
notification = true
forgot_password = true
notification_params = '"userName": {{name}}, "userDomain": {{domain}}, "email": {{email}}'
`, serviceAddr)), dir)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := hookrt.Open(context.Background(), cfg, hookrt.WithObserver(obs.Observe))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

// TestAgainstAccountService runs the three flows end to end against
// examples/account-service over loopback.
func TestAgainstAccountService(t *testing.T) {
	t.Parallel()
	bin := buildAccountService(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	accountService(t, bin, addr, filepath.Join(dir, "accounts.db"))
	obs := hooktest.NewObservations()
	rt := openRuntime(t, dir, addr, obs)
	svc := rt // the runtime's synchronous WebAPI calls
	ctx := context.Background()

	ok1, err := svc.Signup(ctx, webapi.SignupRequest{Username: "ann", Domain: "acme", Email: "ann@example.com", FullName: "Ann Lee"})
	if err != nil || ok1.Outcome != webapi.Allowed || len(ok1.Data) == 0 {
		t.Fatalf("sign-up: %+v %v", ok1, err)
	}
	taken, _ := svc.Signup(ctx, webapi.SignupRequest{Username: "ann", Domain: "acme", Email: "ann2@example.com"})
	if taken.Outcome != webapi.Refused || fmt.Sprint(taken.Fields) != "[username]" || taken.Message == "" {
		t.Fatalf("taken username: %+v", taken)
	}
	bad, _ := svc.Signup(ctx, webapi.SignupRequest{Username: "Bob!", Domain: "acme", Email: "not-an-email"})
	if bad.Outcome != webapi.Refused || fmt.Sprint(bad.Fields) != "[username email]" {
		t.Fatalf("bad fields: %+v", bad)
	}
	known, _ := svc.ForgotPassword(ctx, webapi.ForgotRequest{Username: "ann", Domain: "acme"})
	unknown, _ := svc.ForgotPassword(ctx, webapi.ForgotRequest{Username: "nobody", Domain: "acme"})
	if known != unknown {
		t.Fatalf("forgot password answers differ: %+v vs %+v", known, unknown)
	}

	// The proxy reports the new user: the notification is delivered.
	if _, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "USERNAME": "ann",
		"DOMAIN": "acme", "DOMAIN_ID": "3", "EMAIL": "ann@example.com"}); err != nil {
		t.Fatal(err)
	}
	obs.Wait(t, "notification delivered", func(o []hook.Observation) bool {
		return hooktest.Count(o, "delivered", webapi.NotificationTarget) == 1
	})
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "accounts.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var body string
	if err := db.QueryRow(`SELECT body FROM notifications`).Scan(&body); err != nil {
		t.Fatal(err)
	}
	if body != `{"userName": "ann", "userDomain": "acme", "email": "ann@example.com"}` {
		t.Errorf("notification body %s", body)
	}
}

// TestNotificationSurvivesOutageAndRestart: with the service down, the
// notification waits in the store across a hookd restart, and is
// delivered once the service is up.
func TestNotificationSurvivesOutageAndRestart(t *testing.T) {
	t.Parallel()
	bin := buildAccountService(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	obs := hooktest.NewObservations()
	rt := openRuntime(t, dir, addr, obs)
	ctx := context.Background()
	if _, err := rt.Emit(ctx, map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "USERNAME": "zoe", "DOMAIN": "acme"}); err != nil {
		t.Fatal(err)
	}
	obs.Wait(t, "a failed attempt", func(o []hook.Observation) bool {
		return hooktest.Count(o, "retrying", webapi.NotificationTarget) >= 1
	})
	if err := rt.Close(ctx); err != nil {
		t.Fatal(err)
	}
	accountService(t, bin, addr, filepath.Join(dir, "accounts.db"))
	obs2 := hooktest.NewObservations()
	openRuntime(t, dir, addr, obs2)
	obs2.Wait(t, "delivered after the restart", func(o []hook.Observation) bool {
		return hooktest.Count(o, "delivered", webapi.NotificationTarget) == 1
	})
}
