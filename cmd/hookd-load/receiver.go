package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// maxBodyBytes bounds a delivery's body: 2 MiB, above the largest JWT
// webhook body (1027 KiB) and HTTP events form (193 KiB) hookd can send.
const maxBodyBytes = 2 << 20

// asymmetricAlgs are the algorithms a token may use: hookd signs with
// nothing else, and listing them keeps "none" and HS256 out.
var asymmetricAlgs = []string{"EdDSA", "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}

// The two receiver modes.
const (
	modeJWT    = "jwt"
	modeEvents = "events"
)

// noMessage is the strict HTTP events acknowledgement.
var noMessage = []byte("<nomessage/>")

// receiver is the HTTP handler hookd delivers to: in jwt mode it verifies
// every token against hookd's JWKS and answers 204; in events mode it
// reads EVENT_ID from the form and answers 200 <nomessage/>. Either way it
// records each arrival in the tracker. Refusals (a token that does not
// verify, a body without an id, a path not expected) are counted as errors
// and answered 4xx, so hookd retries them as it would with a real receiver.
type receiver struct {
	mode   string
	tr     *tracker
	keys   *keySet // jwt mode
	parser *jwt.Parser

	bufs    sync.Pool // *bytes.Buffer
	scratch sync.Pool // *formScratch

	requests   atomic.Int64
	badToken   atomic.Int64 // tokens that failed verification
	badRequest atomic.Int64 // wrong method, unreadable body, no id
	badPath    atomic.Int64 // a path the run does not expect
	alg        atomic.Pointer[string]
	mixedAlg   atomic.Bool

	errMu   sync.Mutex
	errSeen map[string]int // distinct refusal reasons, a few
}

// maxErrSamples bounds the distinct refusal reasons kept.
const maxErrSamples = 8

func newReceiver(mode string, tr *tracker, keys *keySet, leeway time.Duration) *receiver {
	rc := &receiver{mode: mode, tr: tr, keys: keys, errSeen: map[string]int{}}
	rc.parser = jwt.NewParser(
		jwt.WithValidMethods(asymmetricAlgs),
		jwt.WithLeeway(leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	rc.bufs.New = func() any { return bytes.NewBuffer(make([]byte, 0, 4096)) }
	rc.scratch.New = func() any { return new(formScratch) }
	return rc
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.requests.Add(1)
	if r.Method != http.MethodPost {
		rc.refuse(w, http.StatusMethodNotAllowed, &rc.badRequest, "method "+r.Method+", not POST")
		return
	}
	idx := rc.tr.pathIndex(r.URL.Path)
	if idx < 0 {
		rc.refuse(w, http.StatusNotFound, &rc.badPath, "unexpected path "+strconv.Quote(r.URL.Path))
		return
	}
	buf := rc.bufs.Get().(*bytes.Buffer)
	defer rc.putBuf(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, maxBodyBytes+1)); err != nil {
		rc.refuse(w, http.StatusBadRequest, &rc.badRequest, "cannot read body: "+err.Error())
		return
	}
	if buf.Len() > maxBodyBytes {
		rc.refuse(w, http.StatusRequestEntityTooLarge, &rc.badRequest, "body larger than 2 MiB")
		return
	}
	at := rc.tr.since() // the whole request is in
	if rc.mode == modeJWT {
		rc.serveJWT(w, buf.Bytes(), idx, at)
	} else {
		rc.serveEvents(w, buf.Bytes(), idx, at)
	}
}

// putBuf returns a buffer to the pool unless a huge body grew it.
func (rc *receiver) putBuf(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		rc.bufs.Put(b)
	}
}

// loadClaims are the claims the receiver reads: the registered ones
// (exp and iat are checked, jti is the event) and, from data, the run.
type loadClaims struct {
	jwt.RegisteredClaims
	Data struct {
		Run     string `json:"LOAD_RUN"`
		EventID string `json:"EVENT_ID"`
	} `json:"data"`
}

func (rc *receiver) serveJWT(w http.ResponseWriter, body []byte, idx int, at time.Duration) {
	tok, ok := jwtOf(body)
	if !ok {
		rc.refuse(w, http.StatusBadRequest, &rc.badRequest, `body is not {"jwt":"…"}`)
		return
	}
	var c loadClaims
	t, err := rc.parser.ParseWithClaims(tok, &c, rc.keys.keyFunc)
	if err != nil {
		rc.refuse(w, http.StatusUnauthorized, &rc.badToken, "token rejected: "+err.Error())
		return
	}
	if c.ID == "" || c.ID != c.Data.EventID {
		rc.refuse(w, http.StatusBadRequest, &rc.badToken, "jti is empty or differs from data.EVENT_ID")
		return
	}
	rc.noteAlg(t.Method.Alg())
	rc.tr.arrive(c.ID, c.Data.Run, idx, at)
	w.WriteHeader(http.StatusNoContent)
}

// jwtOf returns the token of a body {"jwt":"<token>"}. hookd writes exactly
// that, and a token has no characters JSON escapes, so the token is sliced
// out; anything else goes through encoding/json.
func jwtOf(body []byte) (string, bool) {
	const pre, suf = `{"jwt":"`, `"}`
	b := bytes.TrimSpace(body)
	if bytes.HasPrefix(b, []byte(pre)) && bytes.HasSuffix(b, []byte(suf)) && len(b) > len(pre)+len(suf) {
		t := b[len(pre) : len(b)-len(suf)]
		if bytes.IndexByte(t, '"') < 0 && bytes.IndexByte(t, '\\') < 0 {
			return string(t), true
		}
	}
	var msg struct {
		JWT string `json:"jwt"`
	}
	if err := json.Unmarshal(body, &msg); err != nil || msg.JWT == "" {
		return "", false
	}
	return msg.JWT, true
}

// noteAlg remembers the token algorithm, and whether it ever changed.
func (rc *receiver) noteAlg(alg string) {
	if p := rc.alg.Load(); p != nil {
		if *p != alg {
			rc.mixedAlg.Store(true)
		}
		return
	}
	rc.alg.CompareAndSwap(nil, &alg)
}

// formScratch holds one request's ids and runs, by event index: "" for a
// single event, _0, _1, … in a combined request.
type formScratch struct{ ids, runs [][]byte }

func (rc *receiver) serveEvents(w http.ResponseWriter, body []byte, idx int, at time.Duration) {
	s := rc.scratch.Get().(*formScratch)
	defer rc.scratch.Put(s)
	if err := s.parse(body); err != nil {
		rc.refuse(w, http.StatusBadRequest, &rc.badRequest, err.Error())
		return
	}
	for i, id := range s.ids {
		if len(id) == 0 {
			continue
		}
		var run []byte
		if i < len(s.runs) {
			run = s.runs[i]
		}
		rc.tr.arrive(string(id), string(run), idx, at)
	}
	h := w.Header()
	h["Content-Type"] = textXML
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(noMessage)
}

var textXML = []string{"text/xml; charset=utf-8"}

// parse reads EVENT_ID and LOAD_RUN (or EVENT_ID_<i> and LOAD_RUN_<i> in a
// combined request) from a form body. The slices point into body, or to
// unescaped copies of values that needed it.
func (s *formScratch) parse(body []byte) error {
	s.ids, s.runs = s.ids[:0], s.runs[:0]
	found := false
	for len(body) > 0 {
		var pair []byte
		if i := bytes.IndexByte(body, '&'); i >= 0 {
			pair, body = body[:i], body[i+1:]
		} else {
			pair, body = body, nil
		}
		eq := bytes.IndexByte(pair, '=')
		if eq < 0 {
			continue
		}
		name, value := pair[:eq], pair[eq+1:]
		var dst *[][]byte
		var rest []byte
		switch {
		case bytes.HasPrefix(name, []byte("EVENT_ID")):
			dst, rest = &s.ids, name[len("EVENT_ID"):]
		case bytes.HasPrefix(name, []byte(runField)):
			dst, rest = &s.runs, name[len(runField):]
		default:
			continue
		}
		i := 0
		if len(rest) > 0 {
			if rest[0] != '_' {
				continue // another field, such as EVENT_IDX
			}
			n, err := strconv.Atoi(string(rest[1:]))
			if err != nil || n < 0 || n > 100_000 {
				continue
			}
			i = n
		}
		if bytes.ContainsAny(value, "%+") {
			v, err := url.QueryUnescape(string(value))
			if err != nil {
				return errors.New("bad form encoding in " + strconv.Quote(string(name)))
			}
			value = []byte(v)
		}
		for len(*dst) <= i {
			*dst = append(*dst, nil)
		}
		(*dst)[i] = value
		if dst == &s.ids {
			found = true
		}
	}
	if !found {
		return errors.New("form has no EVENT_ID")
	}
	return nil
}

// refuse answers status, counts the refusal and keeps its reason.
func (rc *receiver) refuse(w http.ResponseWriter, status int, counter *atomic.Int64, reason string) {
	counter.Add(1)
	rc.errMu.Lock()
	if _, ok := rc.errSeen[reason]; ok || len(rc.errSeen) < maxErrSamples {
		rc.errSeen[reason]++
	}
	rc.errMu.Unlock()
	http.Error(w, reason, status)
}

// errorSamples returns the refusal reasons seen, with counts.
func (rc *receiver) errorSamples() map[string]int {
	rc.errMu.Lock()
	defer rc.errMu.Unlock()
	out := make(map[string]int, len(rc.errSeen))
	for k, v := range rc.errSeen {
		out[k] = v
	}
	return out
}
