package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/hookrt/hookd/hook"
)

// Domain tokens: the operator hands each domain's owner a token of their
// own; hookd keeps only its hash, so create prints it once.

// maxTokenName bounds -name (the API refuses longer names too; the CLI
// says so before sending).
const maxTokenName = 100

func tokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := newAPICmd("domains token create", true)
	name := a.f.String("name", "", "what the token is for (`NAME`, e.g. ci); shown by token list and in audit records (required)")
	ttl := a.f.Duration("ttl", 0, "the token expires after `DURATION` (e.g. 720h); 0: never (unless [domains] token_max_ttl says otherwise)")
	pos, c, err := a.start(args, "ID")
	if err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(*name) == "":
		return a.f.usageErr(fmt.Errorf("domains token create: -name NAME is required (what the token is for, e.g. ci)"))
	case len(*name) > maxTokenName:
		return a.f.usageErr(fmt.Errorf("-name: at most %d bytes, got %d", maxTokenName, len(*name)))
	case *ttl < 0:
		return a.f.usageErr(fmt.Errorf("-ttl %s: must be 0 (never expires) or more", *ttl))
	}
	body := map[string]string{"name": *name}
	if *ttl > 0 {
		body["ttl"] = ttl.String()
	}
	var tok hook.DomainToken
	raw, err := c.post(ctx, domainPath(pos[0], "/tokens"), nil, body, &tok)
	if err != nil {
		return err
	}
	if *a.asJSON {
		_, err := stdout.Write(raw)
		return err
	}
	if tok.Secret == "" {
		return fmt.Errorf("POST %s: the answer has no token", domainPath(pos[0], "/tokens"))
	}
	// The token alone on stdout, so that it can go straight to a file;
	// what it is, on stderr.
	expires := "never expires"
	if tok.ExpiresAt != nil {
		expires = "expires " + fmtTime(tok.ExpiresAt)
	}
	fmt.Fprintf(stderr, "domain %s: token %s (%q), %s. It is shown only now: hookd keeps only its hash.\n",
		clean(tok.Domain, 0), clean(tok.ID, 0), clean(tok.Name, 0), expires)
	_, err = fmt.Fprintln(stdout, clean(tok.Secret, 0))
	return err
}

func tokenList(ctx context.Context, args []string, stdout io.Writer) error {
	a := newAPICmd("domains token list", true)
	pos, c, err := a.start(args, "ID")
	if err != nil {
		return err
	}
	var toks []hook.DomainToken
	if printed, err := c.showList(ctx, domainPath(pos[0], "/tokens"), nil, "tokens", &toks, *a.asJSON, stdout); printed {
		return err
	}
	if len(toks) == 0 {
		_, err := fmt.Fprintf(stdout, "domain %s has no tokens\n", clean(pos[0], 0))
		return err
	}
	t := newTable(stdout, "ID", "NAME", "CREATED", "BY", "EXPIRES")
	for _, tk := range toks {
		expires := fmtTime(tk.ExpiresAt)
		if tk.ExpiresAt != nil && tk.ExpiresAt.Before(time.Now()) {
			expires += " (expired)"
		}
		t.row(clean(tk.ID, 40), clean(tk.Name, 40), fmtTime(&tk.CreatedAt), clean(tk.CreatedBy, 60), expires)
	}
	return t.flush()
}

func tokenRevoke(ctx context.Context, args []string, stdout io.Writer) error {
	a := newAPICmd("domains token revoke", false)
	pos, c, err := a.start(args, "ID", "TOKEN_ID")
	if err != nil {
		return err
	}
	if _, err := c.call(ctx, "DELETE", domainPath(pos[0], "/tokens/"+url.PathEscape(pos[1])), nil, nil, nil); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "domain %s: token %s revoked\n", clean(pos[0], 0), clean(pos[1], 0))
	return err
}
