package api

import "net/http"

// RouteInfo is a registered route and who may call it: "operator",
// "scoped" (the operator or a domain's owner, scoped) or "public".
type RouteInfo struct{ Pattern, Access string }

// RoutesOf returns the routes h (a handler of New or NewPublic) serves,
// in the order they were registered: the isolation test walks them, so a
// new route without an entry in its table fails it.
func RoutesOf(h http.Handler) []RouteInfo {
	s := h.(*server)
	out := make([]RouteInfo, len(s.routes))
	for i, r := range s.routes {
		out[i] = RouteInfo{r.Pattern, r.Access.String()}
	}
	return out
}
