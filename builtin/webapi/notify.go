package webapi

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookrt/hookd/hook"
)

// NotificationTarget is the name of the notification delivery target.
const NotificationTarget = "webapi.notification"

// EventSignup is the ISL_CP event of a self-service sign-up.
const EventSignup = "SIGNUP"

// Targets returns the notification target when notification is on: every
// ISL_CP USER_CREATE and SIGNUP event, delivered durably and retried until
// the service acknowledges it.
func (s *Service) Targets() []hook.Target {
	if !s.UseNotification {
		return nil
	}
	return []hook.Target{{
		Name:     NotificationTarget,
		Handler:  hook.HandlerFunc(s.notifyEvent),
		Match:    wantsNotification,
		Policy:   hook.Policy{Timeout: s.timeout},
		Delivery: s.Delivery,
	}}
}

// wantsNotification matches account creations.
func wantsNotification(ev *hook.Event) bool {
	if ev.Module() != hook.ModuleCP {
		return false
	}
	n := ev.Name()
	return n == hook.EventUserCreate || n == EventSignup
}

// NotificationValues are the template values of an event: name from
// USERNAME, domain from DOMAIN (else DOMAIN_ID), email from EMAIL, fullname
// from FULLNAME, id from USER_ID (else CPUSER_ID).
func NotificationValues(ev *hook.Event) Values {
	return Values{
		Name:     ev.Get("USERNAME"),
		Domain:   cmpOr(ev.Get("DOMAIN"), ev.Get(hook.FieldDomainID)),
		Email:    ev.Get("EMAIL"),
		FullName: ev.Get("FULLNAME"),
		ID:       cmpOr(ev.Get("USER_ID"), ev.Get("CPUSER_ID")),
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// notifyEvent makes one notification attempt for ev.
//
// Success is a 2xx answer with the success code. Another code is final
// ([hook.Permanent]: asking again will not change the service's mind; the
// delivery is dead-lettered and can be replayed). Transport errors,
// timeouts, non-2xx answers and unparsable ones are retried on the delivery
// schedule (410 disables the target, Retry-After is honoured).
func (s *Service) notifyEvent(ctx context.Context, ev *hook.Event) (hook.Result, error) {
	if s.client == nil || s.tmpl == nil {
		return hook.Result{}, hook.Permanent(ErrNotProvisioned)
	}
	body, err := s.tmpl.Render(NotificationValues(ev))
	if err != nil {
		return hook.Result{}, hook.Permanent(err)
	}
	start := time.Now()
	resp, a, err := s.call(ctx, s.NotificationMethod, s.Language, body, ev.ID)
	var res hook.Result
	if resp != nil {
		res = hook.Result{Status: resp.Status, Reply: resp.Body[:min(len(resp.Body), hook.MaxReplyExcerpt)], Latency: resp.Latency}
	}
	if err != nil {
		s.tally(&s.calls.notify.failed, kindNotification, "failed", start)
		s.log.WarnContext(ctx, "notification not delivered; it will be retried", slog.String("event_id", ev.ID),
			slog.Int("status", res.Status), slog.String("error", err.Error()))
		return res, err
	}
	if !a.OK(s.SuccessCode) {
		res.Summary = "refused: " + a.Code
		s.tally(&s.calls.notify.refused, kindNotification, "refused", start)
		s.log.WarnContext(ctx, "notification refused by the external WebAPI; not retried", slog.String("event_id", ev.ID),
			slog.String("code", a.Code), slog.String("description", a.Description))
		return res, hook.Permanent(fmt.Errorf("the service answered code %q, not %q: %s", a.Code, s.SuccessCode, a.Description))
	}
	s.tally(&s.calls.notify.sent, kindNotification, "ok", start)
	res.Summary = "ok"
	return res, nil
}
