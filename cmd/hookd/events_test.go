package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeHTTPEvents: an event posted to the daemon reaches the global
// script; the script's XMLMSG drop is POSTed to the proxy's XMLMSG
// endpoint as text/xml; the session record shows the outcome.
func TestServeHTTPEvents(t *testing.T) {
	t.Parallel()
	xmlmsg := make(chan string, 4)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		xmlmsg <- r.Header.Get("Content-Type") + "\n" + string(b)
		w.Write([]byte("<ok/>"))
	}))
	defer proxy.Close()
	script := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		fmt.Fprintf(w, `<module secret="x"><islLight><session id=%q><drop/></session></islLight></module>`, r.PostForm.Get("SESSIONID"))
	}))
	defer script.Close()
	dir := t.TempDir()
	listen := freeAddr(t)
	base := "http://" + listen
	cfg := fmt.Sprintf(`
[server]
listen = %q
[store]
path = "data/hookd.db"
[delivery]
poll_interval = "20ms"
[http_events]
global = true
global_server = %q
global_path = "/events"
global_strict = true
save_to_session = true
[commands]
xmlmsg_url = %q
`, listen, strings.TrimPrefix(script.URL, "http://"), proxy.URL+"/xmlmsg")
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte(cfg), 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go run(ctx, []string{"serve", "-config", path}, io.Discard, io.Discard)
	waitHealthy(t, base, nil)

	resp, err := http.Post(base+"/v1/events", "application/x-www-form-urlencoded",
		strings.NewReader("MODULE=ISL_LIGHT&EVENT=NEW+SESSION&DOMAIN_ID=3&SESSIONID=5a1d"))
	if err != nil || resp.StatusCode != 202 {
		t.Fatalf("post event: %v %v", resp, err)
	}
	resp.Body.Close()
	select {
	case got := <-xmlmsg:
		if !strings.HasPrefix(got, "text/xml") || !strings.Contains(got, `<session id="5a1d">`) || !strings.Contains(got, "<drop") {
			t.Fatalf("XMLMSG endpoint got %q", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no XMLMSG command reached the proxy")
	}
	// The session record: the event with its outcome at the global script.
	var rec struct {
		Events []struct {
			Fields  map[string]string `json:"fields"`
			Targets []struct {
				Target, State, Summary string
			} `json:"targets"`
		} `json:"events"`
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(base + "/v1/sessions/5a1d/events")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&rec)
		resp.Body.Close()
		if len(rec.Events) == 1 && len(rec.Events[0].Targets) == 1 && rec.Events[0].Targets[0].State == "delivered" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("session record: %+v", rec)
		}
	}
	if o := rec.Events[0].Targets[0]; o.Target != "http_events.global" || o.Summary != "xmlmsg: drop 5a1d" || rec.Events[0].Fields["EVENT"] != "NEW SESSION" {
		t.Errorf("session record: %+v", rec)
	}
}
