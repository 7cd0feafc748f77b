package nodetest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// Check is one signed request for Verify to judge.
type Check struct {
	// Headers are the request's headers (any case); only the three
	// webhook-* ones matter.
	Headers map[string]string `json:"headers"`
	// Body is the request body, as text (see Result.Note for bodies that
	// are not JSON).
	Body string `json:"body"`
	// Secret ("whsec_…") makes standardwebhooks and svix verify.
	Secret string `json:"secret,omitempty"`
	// PublicKey ("whpk_…") makes Node's crypto verify the v1a signatures.
	PublicKey string `json:"publicKey,omitempty"`
	// Now, in unix seconds, is the verifiers' clock; 0 is the real one.
	Now int64 `json:"now,omitempty"`
}

// Result is one verifier's answer: OK, or the error it threw.
type Result struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// Note is set when a library verified the signature and then failed
	// to parse the body as JSON, which both do after verifying (svix
	// always, standardwebhooks unless given {jsonParse: false}): hookd's
	// http_events target posts a form, its commands target XML. OK is true.
	Note string `json:"note,omitempty"`
}

func (r *Result) String() string {
	switch {
	case r == nil:
		return "not asked"
	case r.OK && r.Note != "":
		return "accepted (" + r.Note + ")"
	case r.OK:
		return "accepted"
	default:
		return "refused (" + r.Error + ")"
	}
}

// Verdict is what the verifiers said of one Check; a verifier not asked
// (no secret, no public key) is nil.
type Verdict struct {
	StandardWebhooks *Result `json:"standardwebhooks,omitempty"`
	Svix             *Result `json:"svix,omitempty"`
	Ed25519          *Result `json:"ed25519,omitempty"`
	// Error is set when verify.mjs could not read the check at all.
	Error string `json:"error,omitempty"`
}

// Accepted reports whether every verifier asked accepted.
func (v Verdict) Accepted() bool {
	asked := 0
	for _, r := range []*Result{v.StandardWebhooks, v.Svix, v.Ed25519} {
		if r == nil {
			continue
		}
		asked++
		if !r.OK {
			return false
		}
	}
	return asked > 0 && v.Error == ""
}

// Refused reports whether every verifier asked refused.
func (v Verdict) Refused() bool {
	asked := 0
	for _, r := range []*Result{v.StandardWebhooks, v.Svix, v.Ed25519} {
		if r == nil {
			continue
		}
		asked++
		if r.OK {
			return false
		}
	}
	return asked > 0 && v.Error == ""
}

func (v Verdict) String() string {
	if v.Error != "" {
		return "unreadable: " + v.Error
	}
	return fmt.Sprintf("standardwebhooks %v, svix %v, ed25519 %v", v.StandardWebhooks, v.Svix, v.Ed25519)
}

// Verify runs verify.mjs once over the checks and returns its verdicts, in
// order. It skips t when node cannot run here (see Install) and fails it
// when the script does not answer every check.
func Verify(t testing.TB, checks ...Check) []Verdict {
	t.Helper()
	n := Install(t)
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, c := range checks {
		if err := enc.Encode(c); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(t.Context(), n.Bin, n.Script("verify.mjs"))
	cmd.Dir = n.Dir
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nodetest: node verify.mjs: %v\n%s", err, stderr.String())
	}
	var verdicts []Verdict
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var v Verdict
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("nodetest: verify.mjs answered %q: %v", sc.Text(), err)
		}
		verdicts = append(verdicts, v)
	}
	if len(verdicts) != len(checks) {
		t.Fatalf("nodetest: verify.mjs answered %d of %d checks\nstdout:\n%s\nstderr:\n%s",
			len(verdicts), len(checks), out, strings.TrimSpace(stderr.String()))
	}
	return verdicts
}
