package webapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/httpjson"
)

// Paths served by [Service.Handler].
const (
	PathSignup = "/v1/webapi/account/signup/1"
	PathForgot = "/v1/webapi/account/password/forgot/1"
)

// maxRequest bounds a request body of the daemon API.
const maxRequest = 64 << 10

// Codes of the daemon API's answers (result.code).
const (
	CodeOK           = "ok"
	CodeRefused      = "refused"
	CodeUnavailable  = "unavailable"
	CodeNotDelegated = "not_delegated"
)

// apiResult and apiAnswer are the JSON1-shaped answers of the daemon API.
type apiResult struct {
	Code        string   `json:"code"`
	Description string   `json:"description"`
	MessageID   string   `json:"message_id"`
	Errors      []string `json:"errors"`
}

type apiAnswer struct {
	Result apiResult       `json:"result"`
	Data   json.RawMessage `json:"data"`
}

// signupRequest and forgotRequest are the request bodies, decoded strictly.
type signupRequest struct {
	Username string `json:"username"`
	Domain   string `json:"domain"`
	Email    string `json:"email"`
	FullName string `json:"fullname"`
	Language string `json:"language"`
	Password string `json:"password"`
}

type forgotRequest struct {
	Username string `json:"username"`
	Domain   string `json:"domain"`
	Email    string `json:"email"`
	Language string `json:"language"`
}

// Handler serves sign-up and forgotten-password decisions over HTTP for a
// proxy that is not written in Go, at the full paths (the daemon mounts it
// under its authenticated /v1/):
//
//	POST /v1/webapi/account/signup/1           {"username","domain","email","fullname","language","password"}
//	POST /v1/webapi/account/password/forgot/1  {"username","domain","email","language"}
//
// Every outcome is answered with 200 and a JSON1-shaped body:
//
//	{"result": {"code": "ok"|"refused"|"unavailable"|"not_delegated",
//	            "description": "<text for the user>", "message_id": "signup.refused",
//	            "errors": ["email"]},
//	 "data": <the service's data, or null>}
//
// # Notes
//
//   - The body is a JSON object of at most 64 KiB with only the fields
//     above (all optional strings); anything else is answered 400 (413 when
//     too large, 415 for a content type other than JSON) with
//     {"error": "…"}. Other methods get 405 with Allow: POST.
//   - The forgotten-password answer is the same whatever happened (code
//     "ok", see [Service.ForgotPassword]).
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(s.serveHTTP)
}

// Routes implements [hook.RouteProvider]: the daemon mounts [Service.Handler]
// at the two paths under its authenticated /v1/.
func (s *Service) Routes() []hook.Route {
	h := s.Handler()
	return []hook.Route{{Pattern: "POST " + PathSignup, Handler: h}, {Pattern: "POST " + PathForgot, Handler: h}}
}

func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != PathSignup && r.URL.Path != PathForgot {
		httpjson.Error(w, http.StatusNotFound, fmt.Sprintf("no such path %q; the WebAPI paths are %s and %s", r.URL.Path, PathSignup, PathForgot))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpjson.Error(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed; use POST", r.Method))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			httpjson.Error(w, http.StatusUnsupportedMediaType, fmt.Sprintf("content type %q not supported; send application/json", ct))
			return
		}
	}
	var ans apiAnswer
	if r.URL.Path == PathSignup {
		var req signupRequest
		if !decode(w, r, &req) {
			return
		}
		res, err := s.Signup(r.Context(), SignupRequest(req))
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		ans = apiAnswer{Result: apiResult{Code: signupCode(res), Description: res.Message, MessageID: res.MessageID, Errors: res.Fields}, Data: res.Data}
	} else {
		var req forgotRequest
		if !decode(w, r, &req) {
			return
		}
		res, err := s.ForgotPassword(r.Context(), ForgotRequest(req))
		if err != nil {
			s.internalError(w, r, err)
			return
		}
		code := CodeOK
		if res.Outcome == NotDelegated {
			code = CodeNotDelegated
		}
		ans = apiAnswer{Result: apiResult{Code: code, Description: res.Message, MessageID: res.MessageID}}
	}
	if ans.Result.Errors == nil {
		ans.Result.Errors = []string{}
	}
	w.Header().Set("Cache-Control", "no-store")
	httpjson.Write(w, http.StatusOK, ans)
}

// signupCode is the API code of a sign-up result.
func signupCode(res SignupResult) string {
	switch {
	case res.Outcome == Allowed:
		return CodeOK
	case res.Outcome == NotDelegated:
		return CodeNotDelegated
	case res.MessageID == MsgSignupUnavailable:
		return CodeUnavailable
	}
	return CodeRefused
}

// decode reads a strict JSON object into v, or answers the error and
// returns false.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			httpjson.Error(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes (64 KiB)", maxRequest))
		} else {
			httpjson.Error(w, http.StatusBadRequest, "cannot read the body: "+err.Error())
		}
		return false
	}
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		httpjson.Error(w, http.StatusBadRequest, "body must be a JSON object like {\"username\": \"ann\", \"domain\": \"acme\"}")
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		httpjson.Error(w, http.StatusBadRequest, requestError(err, v))
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		httpjson.Error(w, http.StatusBadRequest, "invalid JSON: unexpected data after the object")
		return false
	}
	return true
}

// requestError says what is wrong with a request body, naming the fields
// that are allowed.
func requestError(err error, v any) string {
	var (
		typeErr *json.UnmarshalTypeError
		synErr  *json.SyntaxError
	)
	switch {
	case errors.As(err, &typeErr):
		return fmt.Sprintf("field %q: must be a string, got a JSON %s", typeErr.Field, typeErr.Value)
	case errors.As(err, &synErr):
		return fmt.Sprintf("invalid JSON at byte %d: %v", synErr.Offset, synErr)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "invalid JSON: the body ends before the object does"
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return fmt.Sprintf("unknown field %s; allowed: %s", name, fieldList(v))
	}
	return "invalid JSON: " + strings.TrimPrefix(err.Error(), "json: ")
}

// fieldList names the fields a request may carry.
func fieldList(v any) string {
	if _, ok := v.(*forgotRequest); ok {
		return "username, domain, email, language"
	}
	return "username, domain, email, fullname, language, password"
}

func (s *Service) internalError(w http.ResponseWriter, r *http.Request, err error) {
	log := s.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log.ErrorContext(r.Context(), "webapi request failed", slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	httpjson.Error(w, http.StatusInternalServerError, "internal error")
}
