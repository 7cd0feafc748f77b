package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookrt/hookd/hook"
	"github.com/hookrt/hookd/internal/store"
	"github.com/hookrt/hookd/internal/storetest"
	hookrt "github.com/hookrt/hookd/runtime"
)

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// TestStoredDomains: a put creates then replaces a domain, each change
// moves the revision and the domain's stamp and is audited with who and
// what; a delete takes the domain's versions and tokens with it and keeps
// its audit trail.
func TestStoredDomains(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		ctx := context.Background()
		db := storetest.Open(t, st)
		rev0, err := db.DomainsRevision(ctx)
		must(t, err)
		d, err := db.PutDomain(ctx, "42", []byte(`{"script":"https://a.example/"}`), "operator", t0)
		must(t, err)
		if d.Revision != 1 || d.UpdatedBy != "operator" || string(d.Spec) != `{"script":"https://a.example/"}` || !d.CreatedAt.Equal(t0) {
			t.Fatalf("first put = %+v", d)
		}
		rev1, err := db.DomainsRevision(ctx)
		must(t, err)
		if rev1 != rev0+1 || d.Stamp != rev1 {
			t.Fatalf("revision %d -> %d, stamp %d; want one step and the stamp at it", rev0, rev1, d.Stamp)
		}
		d, err = db.PutDomain(ctx, "42", []byte(`{"script":"https://b.example/"}`), `domain "42" token "ci" (dt_1)`, t0.Add(time.Second))
		must(t, err)
		if d.Revision != 2 || d.Stamp != rev1+1 || !d.CreatedAt.Equal(t0) || !d.UpdatedAt.Equal(t0.Add(time.Second)) {
			t.Fatalf("second put = %+v", d)
		}
		all, err := db.StoredDomains(ctx)
		must(t, err)
		if len(all) != 1 || all[0].ID != "42" {
			t.Fatalf("StoredDomains = %+v", all)
		}
		audit, err := db.DomainAudit(ctx, "42", 10)
		must(t, err)
		if len(audit) != 2 || audit[0].Action != "domain.put" || audit[0].Actor != `domain "42" token "ci" (dt_1)` {
			t.Fatalf("audit = %+v", audit)
		}
		var detail struct{ Spec, Previous map[string]string }
		must(t, json.Unmarshal(audit[0].Detail, &detail))
		if detail.Spec["script"] != "https://b.example/" || detail.Previous["script"] != "https://a.example/" {
			t.Fatalf("audit detail = %s; want the settings after and before", audit[0].Detail)
		}

		_, err = db.AddPluginVersion(ctx, store.NewPluginVersion{Domain: "42", Module: []byte("\x00asm1"), SHA256: "aa"}, "operator", t0)
		must(t, err)
		must(t, db.CreateDomainToken(ctx, store.StoredToken{ID: "dt_x", Domain: "42", Name: "ci", Hash: "h", CreatedAt: t0, CreatedBy: "operator"}, "operator", t0))
		must(t, db.DeleteDomain(ctx, "42", "operator", t0))
		if _, err := db.StoredDomain(ctx, "42"); !errors.Is(err, hook.ErrNotFound) {
			t.Fatalf("after delete: %v; want not found", err)
		}
		if vs, _ := db.PluginVersions(ctx, "42"); len(vs) != 0 {
			t.Fatalf("versions after delete: %+v", vs)
		}
		if _, err := db.DomainToken(ctx, "dt_x"); !errors.Is(err, hook.ErrNotFound) {
			t.Fatalf("token after delete: %v; want not found", err)
		}
		if err := db.DeleteDomain(ctx, "42", "operator", t0); !errors.Is(err, hook.ErrNotFound) {
			t.Fatalf("second delete: %v; want not found", err)
		}
		audit, err = db.DomainAudit(ctx, "42", 10)
		must(t, err)
		if len(audit) != 5 || audit[0].Action != "domain.delete" {
			t.Fatalf("audit after delete = %+v", audit)
		}
	})
}

// TestPluginVersions: versions are numbered per domain, a push creates
// the domain, activation (and rollback) moves the stamp, the running
// version cannot be deleted, and the count limit holds.
func TestPluginVersions(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		ctx := context.Background()
		db := storetest.Open(t, st)
		push := func(sum string, activate bool) (hook.PluginVersion, error) {
			return db.AddPluginVersion(ctx, store.NewPluginVersion{Domain: "7", Module: []byte("module " + sum), SHA256: sum,
				Settings: []byte(`{"config":{"k":"v"}}`), Activate: activate, Spec: []byte(`{}`), MaxVersions: 3}, "operator", t0)
		}
		v1, err := push("s1", true)
		must(t, err)
		d, err := db.StoredDomain(ctx, "7")
		must(t, err)
		if v1.Version != 1 || !v1.Active || d.ActiveVersion != 1 || v1.Size != int64(len("module s1")) {
			t.Fatalf("first push = %+v, domain %+v", v1, d)
		}
		v2, err := push("s2", false)
		must(t, err)
		d2, _ := db.StoredDomain(ctx, "7")
		if v2.Version != 2 || v2.Active || d2.Stamp != d.Stamp || d2.ActiveVersion != 1 {
			t.Fatalf("stored-only push = %+v, domain %+v (stamp was %d)", v2, d2, d.Stamp)
		}
		got, err := db.ActivatePluginVersion(ctx, "7", 2, nil, "operator", t0)
		must(t, err)
		d3, _ := db.StoredDomain(ctx, "7")
		if !got.Active || d3.ActiveVersion != 2 || d3.Stamp <= d2.Stamp {
			t.Fatalf("activate 2 = %+v, domain %+v", got, d3)
		}
		if err := db.DeletePluginVersion(ctx, "7", 2, "operator", t0); !errors.Is(err, hook.ErrConflict) {
			t.Fatalf("delete of the running version: %v; want a conflict", err)
		}
		if _, err := db.ActivatePluginVersion(ctx, "7", 9, nil, "operator", t0); !errors.Is(err, hook.ErrNotFound) {
			t.Fatalf("activate of a missing version: %v; want not found", err)
		}
		_, err = db.ActivatePluginVersion(ctx, "7", 1, []byte(`{"strict":true}`), "operator", t0) // rollback
		must(t, err)
		if d4, _ := db.StoredDomain(ctx, "7"); d4.ActiveVersion != 1 || string(d4.Spec) != `{"strict":true}` {
			t.Fatalf("after rollback: %+v", d4)
		}
		_, err = push("s3", false)
		must(t, err)
		if _, err := push("s4", false); !errors.Is(err, hook.ErrConflict) || !errors.Is(err, store.ErrTooManyVersions) {
			t.Fatalf("fourth version: %v; want too many", err)
		}
		must(t, db.DeletePluginVersion(ctx, "7", 2, "operator", t0))
		v4, err := push("s4", false)
		must(t, err)
		if v4.Version != 4 {
			t.Fatalf("version after a deletion = %d; want 4 (numbers are not reused)", v4.Version)
		}
		vs, err := db.PluginVersions(ctx, "7")
		must(t, err)
		if len(vs) != 3 || vs[0].Version != 4 || vs[2].Version != 1 || !vs[2].Active || string(vs[2].Settings) != `{"config":{"k":"v"}}` {
			t.Fatalf("versions = %+v", vs)
		}
		_, mod, err := db.PluginVersion(ctx, "7", 3)
		must(t, err)
		if string(mod) != "module s3" {
			t.Fatalf("module of 3 = %q", mod)
		}
	})
}

// TestPluginVersionsConcurrent: pushes from several connections at once
// get distinct numbers and the count limit holds (the revision row
// serialises them).
func TestPluginVersionsConcurrent(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		ctx := context.Background()
		db := storetest.Open(t, st)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = db.AddPluginVersion(ctx, store.NewPluginVersion{Domain: "c", Module: []byte{byte(i)}, SHA256: "x",
					Activate: i%2 == 0, MaxVersions: 5}, "operator", t0)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrTooManyVersions):
				t.Fatal(err)
			}
		}
		vs, err := db.PluginVersions(ctx, "c")
		must(t, err)
		if ok != 5 || len(vs) != 5 || vs[0].Version != 5 {
			t.Fatalf("%d pushes succeeded, %d versions stored (newest %+v); want 5 and 5", ok, len(vs), vs[0])
		}
	})
}

// TestDomainTokens: a token is stored with its hash, listed while live,
// and revocation and expiry take it off the list; revoking twice is not
// found.
func TestDomainTokens(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		ctx := context.Background()
		db := storetest.Open(t, st)
		must(t, db.CreateDomainToken(ctx, store.StoredToken{ID: "dt_a", Domain: "1", Name: "ci", Hash: "ha", CreatedAt: t0, CreatedBy: "operator"}, "operator", t0))
		must(t, db.CreateDomainToken(ctx, store.StoredToken{ID: "dt_b", Domain: "1", Name: "short", Hash: "hb", CreatedAt: t0, CreatedBy: "operator",
			ExpiresAt: t0.Add(time.Hour)}, "operator", t0))
		ts, err := db.DomainTokens(ctx, "1", t0)
		must(t, err)
		if len(ts) != 2 || ts[1].ExpiresAt.IsZero() || ts[0].Hash != "ha" {
			t.Fatalf("tokens = %+v", ts)
		}
		if ts, _ := db.DomainTokens(ctx, "1", t0.Add(2*time.Hour)); len(ts) != 1 {
			t.Fatalf("after expiry: %+v; want only the token without expiry", ts)
		}
		must(t, db.RevokeDomainToken(ctx, "1", "dt_a", "operator", t0))
		if err := db.RevokeDomainToken(ctx, "1", "dt_a", "operator", t0); !errors.Is(err, hook.ErrNotFound) {
			t.Fatalf("second revoke: %v; want not found", err)
		}
		if err := db.RevokeDomainToken(ctx, "2", "dt_b", "operator", t0); !errors.Is(err, hook.ErrNotFound) {
			t.Fatalf("revoke through another domain: %v; want not found", err)
		}
		tok, err := db.DomainToken(ctx, "dt_a")
		must(t, err)
		if tok.RevokedAt.IsZero() {
			t.Fatalf("revoked token = %+v", tok)
		}
		audit, _ := db.DomainAudit(ctx, "1", 0)
		if len(audit) != 3 || audit[0].Action != "token.revoke" || audit[2].Action != "token.create" {
			t.Fatalf("audit = %+v", audit)
		}
	})
}

// TestPluginLogStore: a node's copy of a domain's lines replaces the
// previous one, every node's lines merge by time, and old ones are pruned.
func TestPluginLogStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, st hookrt.StoreConfig) {
		ctx := context.Background()
		db := storetest.Open(t, st)
		line := func(sec int, text string) hook.PluginLogLine {
			return hook.PluginLogLine{At: t0.Add(time.Duration(sec) * time.Second), EventID: "ev", Level: "info", Line: text}
		}
		must(t, db.ReplacePluginLog(ctx, "n1", "d", []hook.PluginLogLine{line(1, "a1"), line(3, "a3")}))
		must(t, db.ReplacePluginLog(ctx, "n2", "d", []hook.PluginLogLine{line(2, "b2")}))
		must(t, db.ReplacePluginLog(ctx, "n1", "d", []hook.PluginLogLine{line(3, "a3"), line(4, "a4")}))
		must(t, db.ReplacePluginLog(ctx, "n1", "other", []hook.PluginLogLine{line(5, "x")}))
		got, err := db.PluginLog(ctx, "d", 10)
		must(t, err)
		var texts []string
		for _, l := range got {
			texts = append(texts, l.Node+":"+l.Line)
		}
		if want := "[n2:b2 n1:a3 n1:a4]"; fmt.Sprint(texts) != want {
			t.Fatalf("merged = %v; want %s", texts, want)
		}
		if got, _ := db.PluginLog(ctx, "d", 1); len(got) != 1 || got[0].Line != "a4" {
			t.Fatalf("limit 1 = %+v; want the newest", got)
		}
		n, err := db.PrunePluginLogs(ctx, t0.Add(3*time.Second))
		must(t, err)
		if n != 1 {
			t.Fatalf("pruned %d; want 1", n)
		}
	})
}
