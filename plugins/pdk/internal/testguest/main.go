// Command testguest exercises every helper of package pdk, for the tests
// in plugins/pdk. The event's "op" field picks what it does; most ops
// answer with XML(text) so that the test can read a result from the reply.
package main

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/hookrt/hookd/plugins/pdk"
)

// config is what the "config" op decodes.
type config struct {
	Secret string         `json:"secret"`
	Key    string         `json:"key"`
	URL    string         `json:"url"`
	Limit  int            `json:"limit"`
	Tags   []string       `json:"tags"`
	Extra  map[string]any `json:"extra"`
}

func init() { pdk.Handle(handle) }

func main() {}

func handle(ev *pdk.Event) pdk.Reply {
	sid := ev.Get("SESSIONID")
	switch op := ev.Get("op"); op {
	case "nil":
		return nil
	case "nomessage":
		return pdk.NoMessage()
	case "get":
		// the value of the field named by "name", and whether it exists
		v, ok := ev.Lookup(ev.Get("name"))
		return pdk.XML(strconv.FormatBool(ok) + ":" + v)
	case "name":
		return pdk.XML(ev.Name())
	case "fields":
		return pdk.XML(marshal(ev.Fields()))
	case "fieldcount":
		return pdk.XML(strconv.Itoa(len(ev.Fields())))
	case "commands":
		text, label := ev.Get("text"), ev.Get("label")
		return pdk.Commands(ev.Get("secret"), pdk.MessageBox(sid, text), pdk.Chat(sid, text, label),
			pdk.Drop(sid), pdk.Drop(ev.Get("other")))
	case "drop":
		pdk.SetSecret(ev.Get("secret"))
		return pdk.Drop(sid)
	case "invalid":
		return pdk.MessageBox(sid, "   ")
	case "fail":
		return pdk.Fail(errors.New(ev.Get("text")))
	case "failperm":
		return pdk.FailPermanently(errors.New(ev.Get("text")))
	case "failnil":
		return pdk.Fail(nil)
	case "panic":
		panic(ev.Get("text"))
	case "nilmap":
		var m map[string]int
		m["x"] = 1 // a runtime error, recovered like any panic
		return nil
	case "config":
		var cfg config
		if err := pdk.Config(&cfg); err != nil {
			return pdk.FailPermanently(err)
		}
		return pdk.XML(marshal(cfg))
	case "log":
		pdk.Log(pdk.LevelDebug, "debug line")
		pdk.Log(pdk.LevelInfo, "info line")
		pdk.Log(pdk.LevelWarn, "warn line")
		pdk.Logf(pdk.LevelError, "error %d <%s>", 42, "line")
		return nil
	case "time":
		return pdk.XML(strconv.FormatInt(pdk.Now().UnixMilli(), 10) + " " + strconv.FormatInt(int64(pdk.Deadline()/time.Millisecond), 10))
	case "sign":
		var claims map[string]any
		if err := json.Unmarshal([]byte(ev.Get("claims")), &claims); err != nil {
			return pdk.FailPermanently(err)
		}
		token, err := pdk.SignJWT(ev.Get("key"), claims)
		if err != nil {
			return pdk.XML(errName(err))
		}
		return pdk.XML(token)
	case "fetch":
		res, err := pdk.Fetch(pdk.Request{
			Method: ev.Get("method"),
			URL:    ev.Get("url"),
			Header: map[string]string{"X-Test": ev.Get("text")},
			Body:   ev.Get("body"),
		})
		if err != nil {
			return pdk.XML(errName(err))
		}
		return pdk.XML(marshal(res))
	case "fetchmany":
		// requests until one fails; the answer lists the outcomes
		var out []string
		for range 10 {
			res, err := pdk.Fetch(pdk.Request{URL: ev.Get("url")})
			if err != nil {
				out = append(out, errName(err))
				break
			}
			out = append(out, strconv.Itoa(res.Status))
		}
		return pdk.XML(strings.Join(out, " "))
	default:
		return pdk.FailPermanently(errors.New("testguest: unknown op " + strconv.Quote(op)))
	}
}

func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// errName is the Errno of a host error, for the test to compare, or the
// error's text.
func errName(err error) string {
	var he *pdk.HostError
	if errors.As(err, &he) {
		return "E" + strconv.Itoa(int(he.Errno)) + " " + he.Error()
	}
	return "error " + err.Error()
}
