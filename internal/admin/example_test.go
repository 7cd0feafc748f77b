package admin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/hookrt/hookd/internal/admin"
)

// The admin page mounted as the daemon mounts it: without a session, a
// page sends the browser to the login form.
func Example() {
	mux := http.NewServeMux()
	mux.Handle("/admin/", admin.New(newFake(), admin.Options{Token: "s3cret"}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(srv.URL + "/admin/dead")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Location"), resp.Header.Get("X-Frame-Options"))
	// Output:
	// 303 /admin/login DENY
}
