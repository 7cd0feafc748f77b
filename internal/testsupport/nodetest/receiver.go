package nodetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// Delivery is what receiver.mjs saw of one request and what the libraries
// said of it.
type Delivery struct {
	Method    string            `json:"method"`
	Path      string            `json:"path"`
	Headers   map[string]string `json:"headers"` // names in lower case, as Node gives them
	Body      string            `json:"body"`
	ID        string            `json:"id"`        // webhook-id
	Timestamp string            `json:"timestamp"` // webhook-timestamp
	// StandardWebhooks and Svix hold one result per secret, in the order
	// given to Receiver.
	StandardWebhooks []Result `json:"standardwebhooks"`
	Svix             []Result `json:"svix"`
	// Ed25519 is the v1a check, nil without a public key.
	Ed25519 *Result `json:"ed25519,omitempty"`
	// Valid: every check accepted; the receiver answered Status 204 (else 400).
	Valid  bool `json:"valid"`
	Status int  `json:"status"`
}

func (d Delivery) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s id=%q ts=%q status %d:", d.Method, d.Path, d.ID, d.Timestamp, d.Status)
	for i := range d.StandardWebhooks {
		fmt.Fprintf(&b, " secret %d: standardwebhooks %v, svix %v;", i, &d.StandardWebhooks[i], &d.Svix[i])
	}
	if d.Ed25519 != nil {
		fmt.Fprintf(&b, " ed25519 %v", d.Ed25519)
	}
	return b.String()
}

// Endpoint is a running receiver.mjs: a Standard Webhooks receiver in
// Node on loopback, verifying every request with the libraries.
type Endpoint struct {
	// URL is http://127.0.0.1:<port>/; any path is accepted.
	URL string

	deliveries chan Delivery
	exited     chan struct{} // closed when stdout ends: the process is gone
	stderr     *lockedBuffer
}

// Receiver starts receiver.mjs verifying with standardwebhooks and svix for
// every secret ("whsec_…"; a request is valid when each library accepts it
// with each secret, which is what a rotation needs). It is stopped when
// the test ends. It skips t when node cannot run here (see Install).
func Receiver(t testing.TB, secrets ...string) *Endpoint {
	t.Helper()
	return ReceiverWithKey(t, "", secrets...)
}

// ReceiverWithKey is Receiver that also checks the v1a signatures with the
// Ed25519 public key ("whpk_…"); secrets may then be none.
func ReceiverWithKey(t testing.TB, publicKey string, secrets ...string) *Endpoint {
	t.Helper()
	n := Install(t)
	for i, s := range secrets {
		if s == "" || strings.ContainsAny(s, " \t\n") {
			t.Fatalf("nodetest: Receiver: secret %d is empty or has white space", i)
		}
	}
	if len(secrets) == 0 && publicKey == "" {
		t.Fatal("nodetest: Receiver needs at least one secret or a public key")
	}
	// No CommandContext: the receiver lives until Cleanup, which ends it.
	cmd := exec.Command(n.Bin, n.Script("receiver.mjs"))
	cmd.Dir = n.Dir
	// The secrets go in the environment, not argv, out of ps's sight.
	cmd.Env = append(os.Environ(), "HOOKD_SWH_SECRETS="+strings.Join(secrets, " "), "HOOKD_SWH_PUBLIC_KEY="+publicKey)
	stdin, err := cmd.StdinPipe() // closing it ends the receiver, even if the test binary dies
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	e := &Endpoint{deliveries: make(chan Delivery, 1<<14), exited: make(chan struct{}), stderr: &lockedBuffer{}}
	cmd.Stderr = e.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("nodetest: starting receiver.mjs: %v", err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		<-e.exited // the reader is done with stdout before Wait closes it
		_ = cmd.Wait()
	})
	port := make(chan int, 1)
	go e.read(stdout, port)
	select {
	case p, ok := <-port:
		if !ok {
			<-e.exited
			t.Fatalf("nodetest: receiver.mjs ended before it listened: %s", e.stderr)
		}
		e.URL = fmt.Sprintf("http://127.0.0.1:%d/", p)
	case <-t.Context().Done():
		t.Fatal("nodetest: the test ended before receiver.mjs listened")
	}
	return e
}

// read reads receiver.mjs's stdout: the port, then a Delivery per line.
func (e *Endpoint) read(stdout io.Reader, port chan<- int) {
	defer close(e.exited)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 16<<20)
	first := true
	for sc.Scan() {
		if first {
			first = false
			var p struct {
				Port int `json:"port"`
			}
			if err := json.Unmarshal(sc.Bytes(), &p); err != nil || p.Port == 0 {
				fmt.Fprintf(e.stderr, "nodetest: first line of receiver.mjs is not its port: %q\n", sc.Text())
				break
			}
			port <- p.Port
			continue
		}
		var d Delivery
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			fmt.Fprintf(e.stderr, "nodetest: receiver.mjs wrote %q: %v\n", sc.Text(), err)
			continue
		}
		e.deliveries <- d
	}
	if first {
		close(port)
	}
	_, _ = io.Copy(io.Discard, stdout)
}

// Next returns the next request the receiver got (in the order it got
// them), waiting for it until ctx ends or the receiver does.
func (e *Endpoint) Next(ctx context.Context) (Delivery, error) {
	select {
	case d := <-e.deliveries:
		return d, nil
	default:
	}
	select {
	case d := <-e.deliveries:
		return d, nil
	case <-e.exited:
		select {
		case d := <-e.deliveries:
			return d, nil
		default:
		}
		return Delivery{}, fmt.Errorf("nodetest: receiver.mjs has ended: %s", e.stderr)
	case <-ctx.Done():
		return Delivery{}, fmt.Errorf("nodetest: waiting for a request at %s: %w", e.URL, ctx.Err())
	}
}

// Stderr is what receiver.mjs wrote to its stderr so far.
func (e *Endpoint) Stderr() string { return e.stderr.String() }

// lockedBuffer is a bytes.Buffer the process writes while tests read it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.TrimSpace(l.b.String())
}
