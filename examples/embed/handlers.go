package main

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"

	"github.com/hookrt/hookd/builtin/webapi"
	"github.com/hookrt/hookd/hook"
	hookrt "github.com/hookrt/hookd/runtime"
)

// maxBody bounds a request body: a user is a few hundred bytes.
const maxBody = 64 << 10

// server is the proxy's HTTP API:
//
//	POST /users          {"username","domain","email"}                       201 {"id","event_id"}
//	POST /signup         {"username","domain","email","fullname","password"} 201 {"id","event_id","decided_by"}, or 422
//	GET  /users/{name}                                                       200 {"id","username","domain","email","created_at"}
//
// Errors are {"error": "…"} saying what was wrong.
type server struct {
	rt  *hookrt.Runtime
	log *slog.Logger
}

// newServer returns the proxy's HTTP API on a running hookd whose database
// has the users table (see createSchema).
func newServer(rt *hookrt.Runtime, log *slog.Logger) http.Handler {
	s := &server{rt: rt, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("/users", only(http.MethodPost, s.handleCreateUser))
	mux.HandleFunc("/signup", only(http.MethodPost, s.handleSignup))
	mux.HandleFunc("/users/{name}", only(http.MethodGet, s.handleGetUser))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no route %s %s; the routes are POST /users, POST /signup and GET /users/{name}", r.Method, r.URL.Path)
	})
	return mux
}

// created is the answer to a creation.
type created struct {
	ID      int64  `json:"id"`
	EventID string `json:"event_id"` // the USER_CREATE event's EVENT_ID, as receivers get it
	// DecidedBy says who allowed a sign-up: "webapi" (the External WebAPI)
	// or "proxy" (sign-up is not delegated).
	DecidedBy string `json:"decided_by,omitempty"`
}

// handleCreateUser creates a user and emits USER_CREATE, atomically.
func (s *server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var u newUser
	if !decode(w, r, &u) {
		return
	}
	if err := u.check(); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.create(w, r, u, "")
}

// signupRequest is a self-service sign-up.
type signupRequest struct {
	newUser
	FullName string `json:"fullname"`
	// Password is sent to the External WebAPI when [webapi]
	// forward_password is on; this proxy never stores it.
	Password string `json:"password"`
}

// refusal is the answer to a refused sign-up.
type refusal struct {
	Error     string   `json:"error"`            // for the user: the service's description, or a generic text
	MessageID string   `json:"message_id"`       // a stable key to translate it, e.g. "signup.refused"
	Fields    []string `json:"fields,omitempty"` // the input fields the service found wrong
}

// handleSignup asks hookd's External WebAPI whether the user may sign up,
// and creates the user (and the USER_CREATE event) if so.
func (s *server) handleSignup(w http.ResponseWriter, r *http.Request) {
	var req signupRequest
	if !decode(w, r, &req) {
		return
	}
	err := req.check()
	if err == nil {
		err = checkText("fullname", req.FullName, maxFullName)
	}
	if err == nil {
		err = checkText("password", req.Password, maxPassword)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}

	// Ask before opening a transaction: the call may take up to [webapi]
	// timeout, and the database's only connection must not wait for it.
	res, err := s.rt.Signup(r.Context(), webapi.SignupRequest{
		Username: req.Username, Domain: req.Domain, Email: req.Email,
		FullName: req.FullName, Password: req.Password,
	})
	if err != nil {
		s.fail(w, r, req.newUser, err)
		return
	}
	switch res.Outcome {
	case webapi.Allowed: // the service said yes (a username taken in the proxy's table is still a 409)
		s.create(w, r, req.newUser, "webapi")
	case webapi.NotDelegated: // no [webapi] signup = true: the proxy decides, and says yes
		s.create(w, r, req.newUser, "proxy")
	default: // webapi.Refused: by the service, or because it could not be asked (fail closed)
		status := http.StatusUnprocessableEntity
		if res.MessageID == webapi.MsgSignupUnavailable {
			status = http.StatusServiceUnavailable // not the user's fault: try again later
		}
		s.log.Info("sign-up refused", "username", req.Username, "message_id", res.MessageID, "fields", res.Fields)
		writeJSON(w, status, refusal{Error: res.Message, MessageID: res.MessageID, Fields: res.Fields})
	}
}

// create creates u with createUser and answers 201, or the error.
func (s *server) create(w http.ResponseWriter, r *http.Request, u newUser, decidedBy string) {
	id, eventID, err := createUser(r.Context(), s.rt, u)
	if err != nil {
		s.fail(w, r, u, err)
		return
	}
	s.log.Info("user created", "id", id, "username", u.Username, "event_id", eventID)
	w.Header().Set("Location", "/users/"+u.Username)
	writeJSON(w, http.StatusCreated, created{ID: id, EventID: eventID, DecidedBy: decidedBy})
}

// handleGetUser returns one user.
func (s *server) handleGetUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	u, err := getUser(r.Context(), s.rt.DB(), name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		writeError(w, http.StatusNotFound, "no user %q", name)
	case err != nil:
		s.fail(w, r, newUser{Username: name}, err)
	default:
		writeJSON(w, http.StatusOK, u)
	}
}

// fail answers err, a failure to create or read u. Nothing was committed.
func (s *server) fail(w http.ResponseWriter, r *http.Request, u newUser, err error) {
	switch {
	case errors.Is(err, errUsernameTaken):
		writeError(w, http.StatusConflict, "username %q is taken", u.Username)
	case errors.Is(err, hook.ErrInvalidEvent): // hookd refused the event's fields
		writeError(w, http.StatusBadRequest, "event refused: %v", err)
	case errors.Is(err, hook.ErrUnavailable): // nothing was written; the client may try again
		s.log.Warn("store unavailable", "username", u.Username, "error", err)
		writeError(w, http.StatusServiceUnavailable, "the store is unavailable; try again later")
	default:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "username", u.Username, "error", err)
		writeError(w, http.StatusInternalServerError, "internal error; see the proxy's log")
	}
}

// only lets requests of one method through to h.
func only(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, "method must be %s, got %s", method, r.Method)
			return
		}
		h(w, r)
	}
}

// decode reads one JSON object of at most maxBody bytes into v, or answers
// what is wrong with the request and returns false. Unknown fields are
// errors, so that a misspelt one is not silently ignored.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json, got %q", r.Header.Get("Content-Type"))
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil { // nothing may follow the object
		if err = dec.Decode(&struct{}{}); err == io.EOF {
			err = nil
		} else if err == nil {
			err = errors.New("more than one JSON value")
		}
	}
	if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
		writeError(w, http.StatusRequestEntityTooLarge, "body: larger than %d bytes", maxBody)
		return false
	}
	if errors.Is(err, io.EOF) {
		err = errors.New("empty; want a JSON object")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "body: %v", err)
		return false
	}
	return true
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // "Ann <ann@…>" stays readable
	_ = enc.Encode(v)
}

// writeError answers status with {"error": "…"}.
func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}
