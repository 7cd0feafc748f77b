package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookrt/hookd/internal/testsupport"
)

// TestCrashDuringDirectAttempts: the daemon attempts each delivery as soon
// as its event commits, without a River job (the direct path). SIGKILLed
// while those attempts hang at the receiver, nothing of them is settled;
// restarted, it must still deliver every event: on SQLite the restart
// hands the leases of the dead process's attempts to River at once.
func TestCrashDuringDirectAttempts(t *testing.T) {
	t.Parallel()
	testsupport.Short(t, "the hookd binary built")
	dir := t.TempDir()
	listen, hookAddr := freeAddr(t), freeAddr(t)
	base := "http://" + listen
	cfg := writeConfig(t, dir, listen, "http://"+hookAddr+"/hook", "")

	// The first receiver takes the requests and never answers.
	const n = 5
	hung := make(chan struct{}, n)
	release := make(chan struct{})
	var once sync.Once
	stopHanging := func() { once.Do(func() { close(release) }) }
	t.Cleanup(stopHanging)
	ln, err := net.Listen("tcp", hookAddr)
	if err != nil {
		t.Fatal(err)
	}
	hang := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hung <- struct{}{}
		<-release
	})}
	go hang.Serve(ln)

	d := startDaemon(t, cfg)
	waitHealthy(t, base, d.exited)
	ids := map[string]string{}
	for i := range n {
		user := fmt.Sprintf("user%d", i)
		ids[postEvent(t, base, "", map[string]string{"MODULE": "ISL_CP", "EVENT": "USER_CREATE", "DOMAIN_ID": "3", "USERNAME": user})] = user
	}
	for range n {
		select {
		case <-hung:
		case <-time.After(startPatience):
			t.Fatal("the deliveries did not all reach the receiver")
		}
	}
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-d.exited
	stopHanging()
	hang.Close()

	recv := newJWTReceiver(base + "/.well-known/jwks.json")
	ln, err = net.Listen("tcp", hookAddr)
	if err != nil {
		t.Fatalf("receiver port taken meanwhile: %v", err)
	}
	srv := &http.Server{Handler: recv}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	d2 := startDaemon(t, cfg)
	waitHealthy(t, base, d2.exited)
	recv.waitFor(t, "every event", func() bool { return len(recv.got) == n })
	// The restart released them, not the sweep after their lease.
	if out := d2.out.String(); !strings.Contains(out, "released deliveries interrupted by an earlier stop") ||
		!strings.Contains(out, fmt.Sprintf("direct=%d", n)) {
		t.Errorf("the restart did not release the %d leased deliveries:\n%s", n, out)
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	for jti := range recv.got {
		if _, ok := ids[jti]; !ok {
			t.Errorf("jti %s was never emitted", jti)
		}
	}
	if len(recv.bad) > 0 {
		t.Errorf("unverifiable tokens: %v", recv.bad)
	}
}
