package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"sync"

	"github.com/golang-jwt/jwt/v5"
)

// maxBodyBytes bounds a webhook body: 2 MiB, about twice the largest
// token hookd can send; bounded, so that a misbehaving sender cannot make
// the receiver buffer arbitrary amounts.
//
// hookd admits an event of up to 64 KiB of names and values in 256
// fields. The token carries all of them in its "data" claim, and MODULE,
// SERVERID and DOMAIN_ID a second time as the module, server_id and
// domain_id claims; JSON writes a control character such as "\x01", or <,
// > and &, as six bytes ("\u0001"), and base64url makes four bytes of
// three. So the claims are at most 12*65536 + 6*256 + 257 bytes before
// base64url, and the body of the largest token, signed with RSA 4096
// (PS512), is at most 1,051,768 bytes (1027 KiB, just over 1 MiB), plus
// 4/3 of the configured claims. A smaller limit would answer 413 to an
// event hookd accepted, which hookd retries until it gives up.
const maxBodyBytes = 2 << 20

// asymmetricAlgs are the only algorithms accepted. Listing them is what
// stops the classic JWT attacks: "none", and HS256 signed with the public
// key as the HMAC secret.
var asymmetricAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// receiver is the HTTP handler: it verifies one webhook per request and
// prints it.
type receiver struct {
	keys   *keySet
	parser *jwt.Parser
	seen   *seenSet
	logger *slog.Logger

	outMu sync.Mutex // one line at a time, whole
	out   *json.Encoder
}

func newReceiver(cfg config, keys *keySet, stdout io.Writer, logger *slog.Logger) *receiver {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(asymmetricAlgs),
		jwt.WithLeeway(cfg.leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithJSONNumber(), // print numbers exactly as sent
	}
	if cfg.issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.issuer))
	}
	return &receiver{
		keys:   keys,
		parser: jwt.NewParser(opts...),
		seen:   newSeenSet(10_000),
		logger: logger,
		out:    newLineEncoder(stdout),
	}
}

// line is what is printed per webhook; encoding/json writes the fields in
// this (alphabetical) order and the claims with sorted keys.
type line struct {
	Alg       string        `json:"alg"`
	Claims    jwt.MapClaims `json:"claims"`
	Duplicate bool          `json:"duplicate"`
	Kid       string        `json:"kid"`
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		rc.fail(w, r, http.StatusMethodNotAllowed, "method must be POST")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		rc.fail(w, r, http.StatusUnsupportedMediaType, "content type must be application/json")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			rc.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes", maxBodyBytes))
			return
		}
		rc.fail(w, r, http.StatusBadRequest, "cannot read body: "+err.Error())
		return
	}
	var msg struct {
		JWT string `json:"jwt"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		rc.fail(w, r, http.StatusBadRequest, "body is not JSON like {\"jwt\":\"...\"}: "+err.Error())
		return
	}
	if msg.JWT == "" {
		rc.fail(w, r, http.StatusBadRequest, "body has no \"jwt\" string")
		return
	}

	claims := jwt.MapClaims{}
	token, err := rc.parser.ParseWithClaims(msg.JWT, claims, rc.keyFunc(r.Context()))
	if err != nil {
		rc.fail(w, r, statusFor(err), "token rejected: "+err.Error())
		return
	}
	// hookd sets jti to the event's id, the same on every retry: it is what
	// receivers deduplicate on.
	jti, _ := claims["jti"].(string)
	if jti == "" {
		rc.fail(w, r, http.StatusBadRequest, "token has no jti claim")
		return
	}
	kid, _ := token.Header["kid"].(string)
	rc.print(line{Alg: token.Method.Alg(), Claims: claims, Duplicate: !rc.seen.add(jti), Kid: kid})
	// Printed before answering, so whoever reads the answer can rely on the
	// line being there.
	w.WriteHeader(http.StatusNoContent)
}

// keyFunc selects the verification key by the token's kid.
func (rc *receiver) keyFunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token has no kid header")
		}
		k, err := rc.keys.lookup(ctx, kid)
		if err != nil {
			return nil, err
		}
		// A key published for one algorithm is not used with another (say
		// RS256 versus PS256 on the same RSA key).
		if k.alg != "" && k.alg != t.Method.Alg() {
			return nil, fmt.Errorf("token alg %s does not match the key's alg %s", t.Method.Alg(), k.alg)
		}
		return k.key, nil
	}
}

// statusFor maps a verification error to a status: 400 when the token is
// not a JWT at all or lacks a required claim (the sender must fix it),
// 401 when it is not authentic or no longer valid.
func statusFor(err error) int {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return http.StatusBadRequest
	case errors.Is(err, jwt.ErrTokenSignatureInvalid),
		errors.Is(err, jwt.ErrTokenUnverifiable),
		errors.Is(err, jwt.ErrTokenExpired),
		errors.Is(err, jwt.ErrTokenUsedBeforeIssued),
		errors.Is(err, jwt.ErrTokenNotValidYet),
		errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return http.StatusUnauthorized
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return http.StatusBadRequest
	}
	return http.StatusUnauthorized
}

func (rc *receiver) print(l line) {
	rc.outMu.Lock()
	defer rc.outMu.Unlock()
	if err := rc.out.Encode(l); err != nil {
		rc.logger.Error("cannot print webhook", "err", err)
	}
}

// fail answers {"error": msg} and logs it: the sender (hookd) keeps the
// answer in its delivery log, and the integrator sees it on stderr.
func (rc *receiver) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	rc.logger.Warn("webhook refused", "status", status, "remote", r.RemoteAddr, "error", msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// newLineEncoder writes one JSON value per line, leaving <, > and & as
// they are: the output is for people and log tools, not for HTML.
func newLineEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}
