package main

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// signupRequest is the body of account/signup/1.
type signupRequest struct {
	Username string `json:"username"`
	Domain   string `json:"domain"`
	Email    string `json:"email"`
	Fullname string `json:"fullname"`
	Language string `json:"language"` // accepted and not used: a real service would write its mails in it
	// Password is optional. This example never stores or logs it; a real
	// service that must keep one stores a slow hash (argon2id, bcrypt).
	Password string `json:"password"`
}

// signupData is the data of a successful sign-up.
type signupData struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Domain   string `json:"domain"`
}

// Limits of the sign-up fields.
const (
	maxNameLen     = 64  // username and domain, in bytes (they are ASCII)
	maxFullnameLen = 128 // in characters
	maxEmailLen    = 254
)

// signup validates the new user and stores it. Every invalid field is
// reported at once; a username already taken in the domain is refused.
func (h *handler) signup(ctx context.Context, body []byte) reply {
	var req signupRequest
	if _, bad := decodeObject(body, &req); bad != nil {
		return reply{answer: *bad}
	}
	var fields, problems []string
	check := func(valid bool, field, problem string) {
		if !valid {
			fields = append(fields, field)
			problems = append(problems, problem)
		}
	}
	check(validName(req.Username), "username", "The username must be 1 to 64 characters: lowercase letters a-z, digits, '.', '_' or '-'.")
	check(validName(req.Domain), "domain", "The domain must be 1 to 64 characters: lowercase letters a-z, digits, '.', '_' or '-'.")
	check(validEmail(req.Email), "email", "The e-mail address must look like name@example.com.")
	check(utf8.RuneCountInString(req.Fullname) <= maxFullnameLen, "fullname", "The full name must be at most 128 characters.")
	attrs := []any{"username", req.Username, "domain", req.Domain}
	if len(fields) > 0 {
		return reply{answer: fail(codeInvalidInput, strings.Join(problems, " "), fields...), attrs: attrs}
	}

	id, taken, err := h.store.createUser(ctx, req.Domain, req.Username, req.Email, req.Fullname, time.Now().Unix())
	switch {
	case err != nil:
		return reply{answer: fail(codeInternalError, descInternalError), attrs: attrs, err: err}
	case taken:
		desc := fmt.Sprintf("The username %s is already taken; please choose another one.", req.Username)
		return reply{answer: fail(codeUsernameTaken, desc, "username"), attrs: attrs}
	}
	return reply{
		answer: ok("Account created.", signupData{ID: id, Username: req.Username, Domain: req.Domain}),
		attrs:  append(attrs, "id", id),
	}
}

// validName reports whether s is a valid username or domain: 1 to 64 of
// a-z, 0-9, '.', '_' and '-'. Upper case is refused rather than folded:
// the proxy keeps the name it sent, so changing it here would make two
// names for one user.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validEmail is a simple but real check of an e-mail address: one '@', a
// local part, a domain with a dot, and nothing else (no display name, no
// spaces, no comments): net/mail must parse it to exactly the input.
func validEmail(s string) bool {
	if len(s) > maxEmailLen || strings.Count(s, "@") != 1 {
		return false
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || !strings.Contains(strings.Trim(domain, "."), ".") {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Name == "" && a.Address == s
}

// forgotRequest is the body of account/password/forgot/1. Any field may be
// empty.
type forgotRequest struct {
	Username string `json:"username"`
	Domain   string `json:"domain"`
	Email    string `json:"email"`
}

// descResetSent is the one answer to every forgot-password call that
// could be recorded, whether the account exists or not: a different
// answer would tell anyone which accounts exist.
const descResetSent = "If the account exists, a reset link has been sent."

// forgotPassword looks the user up, by username and domain when both are
// given, else by e-mail (within the domain, if given), records the
// request, and answers the same whatever it found. Sending the mail is out
// of scope: it is only logged.
func (h *handler) forgotPassword(ctx context.Context, body []byte) reply {
	var req forgotRequest
	if _, bad := decodeObject(body, &req); bad != nil {
		return reply{answer: *bad}
	}
	attrs := []any{"username", req.Username, "domain", req.Domain, "email", req.Email}
	to, found, err := h.store.lookupEmail(ctx, req.Domain, req.Username, req.Email)
	if err == nil {
		err = h.store.recordReset(ctx, req.Domain, req.Username, req.Email, found, time.Now().Unix())
	}
	if err != nil {
		// Says nothing about the account either: the database failed.
		return reply{answer: fail(codeInternalError, descInternalError), attrs: attrs, err: err}
	}
	attrs = append(attrs, "found", found)
	if found {
		// A real service sends the mail here, after the answer (say, from
		// a queue), so that the answer takes as long whether or not the
		// account exists.
		attrs = append(attrs, "action", "would send reset mail to "+to)
	}
	return reply{answer: ok(descResetSent, struct{}{}), attrs: attrs}
}

// notificationData is the data of a stored notification.
type notificationData struct {
	ID int64 `json:"id"`
}

// notification stores the JSON object as it was sent: its members are
// whatever the operator's notification_params template makes of them.
func (h *handler) notification(ctx context.Context, body []byte) reply {
	obj, bad := decodeObject(body, nil)
	if bad != nil {
		return reply{answer: *bad}
	}
	id, err := h.store.addNotification(ctx, string(obj), time.Now().Unix())
	if err != nil {
		return reply{answer: fail(codeInternalError, descInternalError), err: err}
	}
	return reply{answer: ok("Notification received.", notificationData{ID: id}), attrs: []any{"id", id, "body", logText(obj)}}
}

// maxLogBody bounds how much of a notification goes into its log line.
const maxLogBody = 1 << 10

// logText is body for a log line, cut at maxLogBody bytes.
func logText(body []byte) string {
	if len(body) <= maxLogBody {
		return string(body)
	}
	return fmt.Sprintf("%s… (%d bytes)", strings.ToValidUTF8(string(body[:maxLogBody]), ""), len(body))
}
