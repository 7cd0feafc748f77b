package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const formType = "application/x-www-form-urlencoded"

// testBundle is one running receiver with its own database.
type testBundle struct {
	url    string       // the events endpoint
	db     *sql.DB      // a second connection to the database, to look and to break things
	out    *syncBuffer  // the receiver's stdout
	client *http.Client // this receiver's own client; see setup
}

// setup runs the receiver on a loopback port with a database in a temporary
// directory, and stops it when the test ends.
func setup(t *testing.T) *testBundle {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "events.db")
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	args := []string{"-listen", "127.0.0.1:0", "-db", dbPath}
	go func() { done <- run(ctx, args, out, func(a string) { addr <- a }) }()
	// Each receiver has its own client, whose spare connections are closed
	// before the receiver stops: a connection the client dialled but never
	// used holds http.Server.Shutdown for 5 s (net/http treats it as busy
	// until then), and the shared http.DefaultClient cannot be told to let
	// go of one receiver's connections while parallel tests use it.
	client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(func() {
		client.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	var url string
	select {
	case a := <-addr:
		url = "http://" + a + "/isl-cp-example-events-to-sql"
	case err := <-done:
		t.Fatalf("run returned before ready: %v", err)
	}
	db, err := sql.Open("sqlite", dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &testBundle{url: url, db: db, out: out, client: client}
}

// response is what the receiver answered.
type response struct {
	status      int
	contentType string
	body        string
	allow       string
}

func (b *testBundle) do(t *testing.T, method, path, contentType, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, strings.TrimSuffix(b.url, "/isl-cp-example-events-to-sql")+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header.Get("Content-Type"), string(respBody), resp.Header.Get("Allow")}
}

// post sends a form body as the proxy does.
func (b *testBundle) post(t *testing.T, form string) response {
	t.Helper()
	return b.do(t, http.MethodPost, "/isl-cp-example-events-to-sql", formType+"; charset=UTF-8", form)
}

// postOK posts form and fails the test unless it is acknowledged.
func (b *testBundle) postOK(t *testing.T, form string) {
	t.Helper()
	r := b.post(t, form)
	if r.status != http.StatusOK || r.body != "<nomessage/>" || r.contentType != "text/xml" {
		t.Fatalf("answer = %d %q %q, want 200 text/xml <nomessage/>", r.status, r.contentType, r.body)
	}
}

// row is one row of the events table.
type row struct {
	eventID    string
	receivedAt int64
	timestamp  sql.NullInt64
	module     string
	event      string
	serverID   sql.NullString
	domainID   sql.NullString
	sessionID  sql.NullString
	rawFields  string
}

// rows reads the table in the order the rows were stored.
func (b *testBundle) rows(t *testing.T) []row {
	t.Helper()
	rs, err := b.db.Query(`SELECT event_id, received_at, timestamp, module, event, server_id, domain_id, session_id, raw_fields
		FROM events ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var all []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.eventID, &r.receivedAt, &r.timestamp, &r.module, &r.event, &r.serverID, &r.domainID, &r.sessionID, &r.rawFields); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return all
}

// eventIDs lists the stored event ids, in the order they were stored.
func (b *testBundle) eventIDs(t *testing.T) []string {
	t.Helper()
	var ids []string
	for _, r := range b.rows(t) {
		ids = append(ids, r.eventID)
	}
	return ids
}

// lastLog is the last line the receiver logged.
func (b *testBundle) lastLog() string {
	lines := strings.Split(strings.TrimSpace(b.out.String()), "\n")
	return lines[len(lines)-1]
}

func (b *testBundle) wantLog(t *testing.T, parts ...string) {
	t.Helper()
	line := b.lastLog()
	for _, p := range parts {
		if !strings.Contains(line, p) {
			t.Errorf("log line %q does not contain %q", line, p)
		}
	}
}

func str(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }

func Test_main(t *testing.T) {
	t.Parallel()

	t.Run("single event is stored with every column and its raw fields", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		before := time.Now().Unix()
		b.postOK(t, "TIMESTAMP=1767225600&MODULE=ISL_LIGHT&EVENT=START&SERVERID=grid-1&DOMAIN_ID=7"+
			"&SESSIONID=s-42&reasonAddress=10.0.0.1&start-time=12%3A00&EVENT_ID=ev-1")
		after := time.Now().Unix()
		got := b.rows(t)
		want := row{
			eventID: "ev-1", timestamp: sql.NullInt64{Int64: 1767225600, Valid: true},
			module: "ISL_LIGHT", event: "START", serverID: str("grid-1"), domainID: str("7"), sessionID: str("s-42"),
			rawFields: "DOMAIN_ID=7&EVENT=START&EVENT_ID=ev-1&MODULE=ISL_LIGHT&SERVERID=grid-1&SESSIONID=s-42" +
				"&TIMESTAMP=1767225600&reasonAddress=10.0.0.1&start-time=12%3A00",
		}
		if len(got) != 1 {
			t.Fatalf("rows = %+v, want one", got)
		}
		if got[0].receivedAt < before || got[0].receivedAt > after {
			t.Errorf("received_at = %d, want between %d and %d", got[0].receivedAt, before, after)
		}
		want.receivedAt = got[0].receivedAt
		if got[0] != want {
			t.Errorf("row\n%+v\nwant\n%+v", got[0], want)
		}
		b.wantLog(t, "level=INFO", "method=POST", "status=200", "events=1", "stored=1", "duplicates=0")
		var mode string
		if err := b.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q (%v), want wal", mode, err)
		}
	})

	t.Run("same EVENT_ID twice is stored once", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.postOK(t, "MODULE=ISL_LIGHT&EVENT=STOP&EVENT_ID=ev-1&reason=closed")
		b.wantLog(t, "stored=1", "duplicates=0")
		// A retry; even if its fields differed, the first one stays.
		b.postOK(t, "MODULE=ISL_LIGHT&EVENT=STOP&EVENT_ID=ev-1&reason=other")
		b.wantLog(t, "stored=0", "duplicates=1")
		got := b.rows(t)
		if len(got) != 1 || got[0].rawFields != "EVENT=STOP&EVENT_ID=ev-1&MODULE=ISL_LIGHT&reason=closed" {
			t.Errorf("rows = %+v, want the first event only", got)
		}
	})

	t.Run("NEW SESSION is stored verbatim", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.postOK(t, "MODULE=ISL_LIGHT&EVENT=NEW+SESSION&EVENT_ID=a")
		b.postOK(t, "MODULE=ISL_LIGHT&EVENT=NEW%20SESSION&EVENT_ID=b")
		b.postOK(t, "MODULE=ISL_LIGHT&EVENT=NEWSESSION&EVENT_ID=c")
		var events []string
		for _, r := range b.rows(t) {
			events = append(events, r.event)
		}
		if got, want := strings.Join(events, "|"), "NEW SESSION|NEW SESSION|NEWSESSION"; got != want {
			t.Errorf("events = %s, want %s", got, want)
		}
	})

	t.Run("without EVENT_ID the id is the hash of the raw fields", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.postOK(t, "TIMESTAMP=1767225600&MODULE=ISL_LIGHT&EVENT=NEW%20SESSION&SESSIONID=s-1")
		// The same event, encoded differently: it is a retry.
		b.postOK(t, "SESSIONID=s-1&EVENT=NEW+SESSION&MODULE=ISL_LIGHT&TIMESTAMP=1767225600")
		b.wantLog(t, "stored=0", "duplicates=1")
		raw := "EVENT=NEW+SESSION&MODULE=ISL_LIGHT&SESSIONID=s-1&TIMESTAMP=1767225600"
		sum := sha256.Sum256([]byte(raw))
		got := b.rows(t)
		if len(got) != 1 || got[0].eventID != "sha256:"+hex.EncodeToString(sum[:]) || got[0].rawFields != raw {
			t.Errorf("rows = %+v, want one with event_id sha256:%x and raw_fields %s", got, sum, raw)
		}
	})

	t.Run("absent optional fields are NULL", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.postOK(t, "MODULE=ISL_PRONTO&EVENT=MESSAGE&EVENT_ID=m-1&TIMESTAMP=soon&SESSIONID=")
		got := b.rows(t)
		if len(got) != 1 {
			t.Fatalf("rows = %+v, want one", got)
		}
		want := row{eventID: "m-1", receivedAt: got[0].receivedAt, module: "ISL_PRONTO", event: "MESSAGE",
			sessionID: str(""), rawFields: "EVENT=MESSAGE&EVENT_ID=m-1&MODULE=ISL_PRONTO&SESSIONID=&TIMESTAMP=soon"}
		if got[0] != want {
			t.Errorf("row = %+v, want %+v", got[0], want)
		}
	})

	t.Run("combined batch is stored in order", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// Fields in any order; SERVERID has no index, so it is every event's.
		b.postOK(t, "COUNT=3&SERVERID=grid-1"+
			"&MODULE_2=ISL_LIGHT&EVENT_2=STOP&EVENT_ID_2=ev-m&reason_2=closed&TIMESTAMP_2=3"+
			"&MODULE_0=ISL_LIGHT&EVENT_0=NEW+SESSION&EVENT_ID_0=ev-z&TIMESTAMP_0=1&SESSIONID_0=s-1"+
			"&MODULE_1=ISL_LIGHT&EVENT_1=START&EVENT_ID_1=ev-a&TIMESTAMP_1=2&SERVERID_1=grid-2")
		b.wantLog(t, "events=3", "stored=3", "duplicates=0")
		got := b.rows(t)
		if len(got) != 3 {
			t.Fatalf("rows = %+v, want 3", got)
		}
		want := []row{
			{eventID: "ev-z", timestamp: sql.NullInt64{Int64: 1, Valid: true}, module: "ISL_LIGHT", event: "NEW SESSION",
				serverID: str("grid-1"), sessionID: str("s-1"),
				rawFields: "EVENT=NEW+SESSION&EVENT_ID=ev-z&MODULE=ISL_LIGHT&SERVERID=grid-1&SESSIONID=s-1&TIMESTAMP=1"},
			{eventID: "ev-a", timestamp: sql.NullInt64{Int64: 2, Valid: true}, module: "ISL_LIGHT", event: "START",
				serverID:  str("grid-2"),
				rawFields: "EVENT=START&EVENT_ID=ev-a&MODULE=ISL_LIGHT&SERVERID=grid-2&TIMESTAMP=2"},
			{eventID: "ev-m", timestamp: sql.NullInt64{Int64: 3, Valid: true}, module: "ISL_LIGHT", event: "STOP",
				serverID:  str("grid-1"),
				rawFields: "EVENT=STOP&EVENT_ID=ev-m&MODULE=ISL_LIGHT&SERVERID=grid-1&TIMESTAMP=3&reason=closed"},
		}
		for i := range want {
			want[i].receivedAt = got[i].receivedAt
			if got[i] != want[i] {
				t.Errorf("row %d\n%+v\nwant\n%+v", i, got[i], want[i])
			}
		}

		// A later batch repeating one of them stores only the new one.
		b.postOK(t, "COUNT=2&MODULE_0=ISL_LIGHT&EVENT_0=START&EVENT_ID_0=ev-a&MODULE_1=ISL_LIGHT&EVENT_1=STOP&EVENT_ID_1=ev-b")
		b.wantLog(t, "events=2", "stored=1", "duplicates=1")
		if got, want := strings.Join(b.eventIDs(t), ","), "ev-z,ev-a,ev-m,ev-b"; got != want {
			t.Errorf("event ids = %s, want %s", got, want)
		}
	})

	t.Run("body of exactly maxBodyBytes is accepted", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		form := "MODULE=ISL_LIGHT&EVENT=START&EVENT_ID=big&pad="
		b.postOK(t, form+strings.Repeat("x", maxBodyBytes-len(form)))
	})

	t.Run("bad input is refused and nothing is stored", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		const path = "/isl-cp-example-events-to-sql"
		ok := "MODULE=ISL_LIGHT&EVENT=START&EVENT_ID=e"
		tests := []struct {
			name, method, path, contentType, body string
			status                                int
			errText                               string
		}{
			{"GET", http.MethodGet, path, "", "", 405, "method must be POST"},
			{"PUT", http.MethodPut, path, formType, ok, 405, "method must be POST"},
			{"other path", http.MethodPost, "/other", formType, ok, 404, "the path is " + path},
			{"no content type", http.MethodPost, path, "", ok, 415, "content type must be application/x-www-form-urlencoded"},
			{"JSON", http.MethodPost, path, "application/json", `{"MODULE":"ISL_LIGHT"}`, 415, "content type must be"},
			{"multipart", http.MethodPost, path, "multipart/form-data; boundary=x", ok, 415, "content type must be"},
			{"body over maxBodyBytes", http.MethodPost, path, formType, ok + "&pad=" + strings.Repeat("x", maxBodyBytes-len(ok+"&pad=")+1), 413, "larger than 1048576 bytes"},
			{"not form encoding", http.MethodPost, path, formType, "MODULE=%zz", 400, "not URL-encoded"},
			{"MODULE missing", http.MethodPost, path, formType, "EVENT=START&EVENT_ID=e", 400, "field MODULE is missing"},
			{"EVENT missing", http.MethodPost, path, formType, "MODULE=ISL_LIGHT&EVENT_ID=e", 400, "field EVENT is missing"},
			{"MODULE empty", http.MethodPost, path, formType, "MODULE=&EVENT=START", 400, "field MODULE is missing or empty"},
			{"MODULE twice", http.MethodPost, path, formType, ok + "&MODULE=ISL_PRONTO", 400, "field MODULE is repeated"},
			{"batch: EVENT_1 missing", http.MethodPost, path, formType, "COUNT=2&MODULE_0=A&EVENT_0=B&MODULE_1=A", 400, "field EVENT_1 is missing"},
			{"batch: fewer events than COUNT", http.MethodPost, path, formType, "COUNT=3&MODULE_0=A&EVENT_0=B&MODULE_1=A&EVENT_1=B", 400, "field MODULE_2 is missing"},
			{"batch: COUNT 0", http.MethodPost, path, formType, "COUNT=0", 400, "field COUNT must be a number from 1 to 4096"},
			{"batch: COUNT not a number", http.MethodPost, path, formType, "COUNT=two&MODULE_0=A&EVENT_0=B", 400, "field COUNT must be a number"},
			{"batch: COUNT twice", http.MethodPost, path, formType, "COUNT=1&COUNT=1&MODULE_0=A&EVENT_0=B", 400, "field COUNT is repeated"},
		}
		for _, tt := range tests {
			r := b.do(t, tt.method, tt.path, tt.contentType, tt.body)
			if r.status != tt.status || !strings.Contains(r.body, tt.errText) || !strings.HasPrefix(r.contentType, "text/plain") {
				t.Errorf("%s: answer = %d %q %q, want %d text/plain containing %q", tt.name, r.status, r.contentType, r.body, tt.status, tt.errText)
			}
			if tt.status == 405 && r.allow != "POST" {
				t.Errorf("%s: Allow = %q, want POST", tt.name, r.allow)
			}
			b.wantLog(t, "level=WARN", fmt.Sprintf("status=%d", tt.status), "stored=0")
		}
		if ids := b.eventIDs(t); len(ids) != 0 {
			t.Errorf("stored %v, want nothing", ids)
		}
	})

	t.Run("500 when the database cannot be written; a batch is all or nothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		// A trigger makes the third event's INSERT fail, as a full disk would.
		if _, err := b.db.Exec(`CREATE TRIGGER refuse_stop BEFORE INSERT ON events WHEN NEW.event = 'STOP'
			BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`); err != nil {
			t.Fatal(err)
		}
		batch := "COUNT=3&MODULE_0=ISL_LIGHT&EVENT_0=NEWSESSION&EVENT_ID_0=e0" +
			"&MODULE_1=ISL_LIGHT&EVENT_1=START&EVENT_ID_1=e1&MODULE_2=ISL_LIGHT&EVENT_2=STOP&EVENT_ID_2=e2"
		r := b.post(t, batch)
		if r.status != http.StatusInternalServerError || strings.Contains(r.body, "nomessage") {
			t.Fatalf("answer = %d %q, want 500 and no <nomessage/>", r.status, r.body)
		}
		b.wantLog(t, "level=ERROR", "status=500", "events=3", "stored=0", "refused by the test")
		if ids := b.eventIDs(t); len(ids) != 0 {
			t.Errorf("stored %v after a failed batch, want nothing", ids)
		}

		// The sender retries once the database is fixed.
		if _, err := b.db.Exec(`DROP TRIGGER refuse_stop`); err != nil {
			t.Fatal(err)
		}
		b.postOK(t, batch)
		if got, want := strings.Join(b.eventIDs(t), ","), "e0,e1,e2"; got != want {
			t.Errorf("event ids = %s, want %s", got, want)
		}
	})

	t.Run("concurrent requests share the one connection", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				// Every id is sent four times, as by a sender retrying.
				resp, err := b.client.Post(b.url, formType, strings.NewReader(fmt.Sprintf("MODULE=ISL_LIGHT&EVENT=START&EVENT_ID=c-%d", i%4)))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("status = %d, want 200", resp.StatusCode)
				}
			})
		}
		wg.Wait()
		if ids := b.eventIDs(t); len(ids) != 4 {
			t.Errorf("stored %v, want 4 events", ids)
		}
	})
}

func Test_mainStartup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"path without slash", []string{"-path", "events"}, "-path must start with /"},
		{"stray argument", []string{"extra"}, "unexpected arguments"},
		{"database in a missing directory", []string{"-listen", "127.0.0.1:0", "-db", filepath.Join(dir, "missing", "events.db")}, "open database"},
		{"database path with ?", []string{"-listen", "127.0.0.1:0", "-db", filepath.Join(dir, "a?b.db")}, "must not contain '?'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), tt.args, io.Discard, func(string) { t.Error("ready called") })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// syncBuffer is the receiver's stdout: written by its handlers, read by
// the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
