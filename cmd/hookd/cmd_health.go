package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

func init() {
	helps["health"] = cmdHelp{"hookd health [-addr URL] [-timeout DURATION]",
		"Ask a running hookd whether it is healthy (GET /healthz: the store can be read and\n" +
			"written): print ok and exit 0, or print why not and exit 1. For a container's\n" +
			"HEALTHCHECK, where there is no curl."}
}

// cmdHealth is hookd health: GET /healthz, exit 0 or 1.
func cmdHealth(ctx context.Context, args []string, stdout io.Writer) error {
	f := newFlags("health")
	co := addClientFlags(f, 5*time.Second)
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := f.wantArgs(pos); err != nil {
		return err
	}
	c, err := co.client(f)
	if err != nil {
		return err
	}
	var ans struct {
		Status string `json:"status"`
	}
	if _, err := c.get(ctx, "/healthz", nil, &ans); err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "%s: %s\n", c.base.Redacted(), clean(ans.Status, 40))
	return err
}
