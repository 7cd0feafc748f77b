package admin

import (
	"context"

	"github.com/hookrt/hookd/internal/ops"
	"github.com/hookrt/hookd/internal/webui/webuitest"
)

// nopBackend has nothing: for the package's internal tests. The part it
// shares with the portal's is webuitest.NopBackend.
type nopBackend struct{ webuitest.NopBackend }

func (nopBackend) DisableTarget(context.Context, string, string) error { return nil }
func (nopBackend) PauseTarget(context.Context, string, string) error   { return nil }
func (nopBackend) EnableTarget(context.Context, string) error          { return nil }
func (nopBackend) ResumeTarget(context.Context, string) error          { return nil }
func (nopBackend) Reload(context.Context) error                        { return nil }
func (nopBackend) Stats() ops.Stats                                    { return ops.Stats{} }
