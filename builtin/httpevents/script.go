package httpevents

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/outbound"
	"github.com/hookrt/hookd/internal/xmlmsg"
)

// script is one events script: the global one or a domain's.
type script struct {
	url    string
	strict bool
	client *outbound.Client
}

var (
	_ hook.Handler      = (*script)(nil)
	_ hook.BatchHandler = (*script)(nil)
)

// Handle POSTs one event's fields and judges the answer.
func (s *script) Handle(ctx context.Context, ev *hook.Event) (hook.Result, error) {
	return s.post(ctx, hook.AppendForm(nil, ev.Fields, ""), ev.ID, 0)
}

// HandleBatch POSTs several events in one request, fields suffixed with
// each event's index, plus COUNT.
func (s *script) HandleBatch(ctx context.Context, evs []*hook.Event) (hook.Result, error) {
	var b []byte
	for i, ev := range evs {
		if i > 0 {
			b = append(b, '&')
		}
		b = hook.AppendForm(b, ev.Fields, "_"+strconv.Itoa(i))
	}
	b = append(b, "&COUNT="+strconv.Itoa(len(evs))...)
	return s.post(ctx, b, evs[0].ID, len(evs))
}

func (s *script) post(ctx context.Context, body []byte, eventID string, batch int) (hook.Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return hook.Result{}, hook.Permanent(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("X-Event-Id", eventID)
	if batch > 0 {
		req.Header.Set("X-Hookd-Batch", strconv.Itoa(batch))
	}
	resp, err := s.client.Do(ctx, req)
	if err != nil {
		res, err := outbound.Classify(resp, err)
		if errors.Is(err, outbound.ErrRefused) {
			err = hook.Permanent(err) // the guard will refuse every retry too
		}
		return res, err
	}
	if s.strict {
		return judgeStrict(resp)
	}
	return judgeLax(resp), nil
}

// judgeStrict: a 2xx answer with well-formed XML acknowledges the event
// (xmlmsg.Judge, the rule plugins follow too); an XMLMSG document in it is
// forwarded, other XML is recorded as not executed.
func judgeStrict(resp *outbound.Response) (hook.Result, error) {
	res, err := outbound.Classify(resp, nil)
	if err != nil {
		return res, err // 3xx, 4xx, 5xx: the shared rules (410 disables, Retry-After)
	}
	if resp.Truncated {
		return res, fmt.Errorf("HTTP %d but the reply is larger than %d bytes; a strict script answers short XML: <nomessage/> or an XMLMSG document", resp.Status, xmlmsg.MaxReply)
	}
	summary, commands, err := xmlmsg.Judge(resp.Body, true)
	if err != nil {
		if strings.HasPrefix(err.Error(), "line ") {
			return res, fmt.Errorf("HTTP %d but the reply is refused: %w", resp.Status, err)
		}
		return res, fmt.Errorf("HTTP %d but %w", resp.Status, err)
	}
	res.Summary, res.Commands = summary, commands
	return res, nil
}

// judgeLax: any HTTP answer delivers; a 2xx XML reply's commands are still
// forwarded, anything else is noted and ignored.
func judgeLax(resp *outbound.Response) hook.Result {
	res := hook.Result{Status: resp.Status, Reply: resp.Body, Latency: resp.Latency}
	switch {
	case resp.Status < 200 || resp.Status > 299:
		res.Summary = fmt.Sprintf("HTTP %d (not strict: accepted)", resp.Status)
	case resp.Truncated:
		res.Summary = fmt.Sprintf("reply over %d bytes (not strict: ignored)", xmlmsg.MaxReply)
	default:
		res.Summary, res.Commands, _ = xmlmsg.Judge(resp.Body, false) // never an error when not strict
	}
	return res
}
