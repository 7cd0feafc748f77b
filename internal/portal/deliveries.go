package portal

import (
	"net/http"

	"github.com/hookrt/hookd/internal/webui"
)

// The delivery log's pages (the list, the dead letters, one delivery, its
// retry and discard, the bulk replay, a session's record) are the ones
// the admin page shows too: [webui.Deliveries], scoped to the session's
// domain through ops. What is the portal's own is the overview above the
// list: the domain's deliveries by state and its plugin's calls.

// summary is the overview above the domain's deliveries; nil (none shown)
// when it cannot be had.
func (s *server) summary(r *http.Request, se *webui.Session) any {
	sum, err := s.b.DomainSummary(r.Context(), se.Who, se.Who.Domain)
	if err != nil {
		s.log.WarnContext(r.Context(), "portal: domain summary", "domain", se.Who.Domain, "error", err)
		return nil
	}
	return &sum
}
