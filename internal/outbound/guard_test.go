package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

func TestGuardCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ip    string
		allow []string
		want  string // substring of the refusal; "" means allowed
	}{
		{ip: "8.8.8.8"},
		{ip: "1.1.1.1"},
		{ip: "2606:4700:4700::1111"},
		{ip: "172.32.0.1"},       // just past 172.16.0.0/12
		{ip: "64:ff9b::808:808"}, // NAT64 of 8.8.8.8
		{ip: "2002:808:808::1"},  // 6to4 of 8.8.8.8
		{ip: "127.0.0.1", want: "is loopback"},
		{ip: "127.255.255.254", want: "is loopback"},
		{ip: "::1", want: "is loopback"},
		{ip: "::ffff:127.0.0.1", want: "is loopback"},
		{ip: "0.0.0.0", want: "is unspecified"},
		{ip: "::", want: "is unspecified"},
		{ip: "10.1.2.3", want: "is private (RFC 1918)"},
		{ip: "172.16.0.1", want: "is private"},
		{ip: "172.31.255.255", want: "is private"},
		{ip: "192.168.0.1", want: "is private"},
		{ip: "::ffff:192.168.0.1", want: "is private"},
		{ip: "100.64.0.1", want: "carrier-grade NAT"},
		{ip: "169.254.1.1", want: "is link-local"},
		{ip: "fe80::1", want: "is link-local"},
		{ip: "fe80::1%eth0", want: "is link-local"},
		{ip: "169.254.169.254", want: "is cloud metadata"},
		{ip: "::ffff:169.254.169.254", want: "is cloud metadata"},
		{ip: "fd00:ec2::254", want: "is cloud metadata"},
		{ip: "fd12:3456::1", want: "unique-local"},
		{ip: "224.0.0.1", want: "is multicast"},
		{ip: "ff02::1", want: "is multicast"},
		{ip: "255.255.255.255", want: "is broadcast"},
		{ip: "240.0.0.1", want: "is reserved"},
		{ip: "192.0.2.10", want: "documentation"},
		{ip: "2002:7f00:1::", want: "is loopback (it embeds 127.0.0.1)"},             // 6to4
		{ip: "64:ff9b::a01:203", want: "is private (RFC 1918) (it embeds 10.1.2.3)"}, // NAT64
		{ip: "::a01:203", want: "(it embeds 10.1.2.3)"},                              // IPv4-compatible

		// allow lists
		{ip: "127.0.0.1", allow: []string{"127.0.0.0/8"}},
		{ip: "::ffff:127.0.0.1", allow: []string{"127.0.0.0/8"}},
		{ip: "10.1.2.3", allow: []string{"10.1.2.3"}},
		{ip: "10.1.2.4", allow: []string{"10.1.2.3"}, want: "is private"},
		{ip: "fe80::1%eth0", allow: []string{"fe80::/10"}},
		{ip: "169.254.1.1", allow: []string{"169.254.0.0/16"}},
		{ip: "169.254.169.254", allow: []string{"169.254.0.0/16"}, want: "is cloud metadata"},
		{ip: "169.254.169.254", allow: []string{"0.0.0.0/0"}, want: "for exactly this address"},
		{ip: "169.254.169.254", allow: []string{"169.254.169.254"}},
		{ip: "fd00:ec2::254", allow: []string{"fc00::/7"}, want: "is cloud metadata"},
	}
	for _, tt := range tests {
		allow, err := ParsePrefixes(tt.allow)
		if err != nil {
			t.Fatal(err)
		}
		err = NewGuard(allow).Check(netip.MustParseAddr(tt.ip))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Check(%s) with allow %v = %v, want nil", tt.ip, tt.allow, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Check(%s) with allow %v = %v, want an error containing %q", tt.ip, tt.allow, err, tt.want)
		case err != nil && !errors.Is(err, ErrRefused):
			t.Errorf("Check(%s) = %v, which does not wrap ErrRefused", tt.ip, err)
		}
	}
}

func TestGuardEdges(t *testing.T) {
	t.Parallel()
	var nilGuard *Guard
	if err := nilGuard.Check(netip.MustParseAddr("127.0.0.1")); err != nil {
		t.Errorf("nil guard refused: %v", err)
	}
	if err := NewGuard(nil).Check(netip.Addr{}); !errors.Is(err, ErrRefused) {
		t.Errorf("Check(zero Addr) = %v, want a refusal", err)
	}
	if err := NewGuard(nil).Control(context.Background(), "tcp", "localhost:80", nil); !errors.Is(err, ErrRefused) {
		t.Errorf("Control with a host name = %v, want a refusal", err)
	}
	err := NewGuard(nil).Control(context.Background(), "tcp", "127.0.0.1:8080", nil)
	const want = "address 127.0.0.1:8080 is loopback; refused for domain-owned URLs (allow it with allow_private)"
	if err == nil || err.Error() != want {
		t.Errorf("Control refusal = %v, want %q", err, want)
	}
}

// TestDoGuard dials real loopback servers through a guarded client: the
// refusal happens before any byte is sent, also when a host name resolves to
// loopback, and an allow entry lets the request through.
func TestDoGuard(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	url := serve(t, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, "ok")
	}))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(url, "http://"))

	refusing := New(Options{Guard: NewGuard(nil)})
	for _, u := range []string{url, "http://localhost:" + port} {
		req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader("{}"))
		resp, err := refusing.Do(context.Background(), req)
		if resp != nil || !errors.Is(err, ErrRefused) {
			t.Fatalf("Do(%s) = %v, %v; want a refusal", u, resp, err)
		}
		if !strings.HasPrefix(err.Error(), "address ") || !strings.Contains(err.Error(), "is loopback; refused for domain-owned URLs") {
			t.Errorf("Do(%s) error = %q, want the guard's text", u, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("guarded requests reached the server %d times", n)
	}

	allow, err := ParsePrefixes([]string{"127.0.0.0/8", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	allowing := New(Options{Guard: NewGuard(allow)})
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("{}"))
	resp, err := allowing.Do(context.Background(), req)
	if err != nil || resp.Status != 200 || string(resp.Body) != "ok" {
		t.Fatalf("Do with loopback allowed = %+v, %v", resp, err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("server hit %d times, want 1", n)
	}
}

func TestParsePrefixes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      []string
		want    []string
		wantErr string
	}{
		{in: nil, want: []string{}},
		{in: []string{"10.0.0.0/8", " 192.168.1.5 ", "::1", "fd00::/8"}, want: []string{"10.0.0.0/8", "192.168.1.5/32", "::1/128", "fd00::/8"}},
		{in: []string{"10.1.2.3/8"}, want: []string{"10.0.0.0/8"}},
		{in: []string{"::ffff:10.0.0.0/104", "::ffff:127.0.0.1"}, want: []string{"10.0.0.0/8", "127.0.0.1/32"}},
		{in: []string{"10.0.0.0/8", "10.0.0.300/8"}, wantErr: `entry 2 ("10.0.0.300/8") is not an IP address or CIDR prefix`},
		{in: []string{"example.com"}, wantErr: `entry 1 ("example.com")`},
		{in: []string{""}, wantErr: `entry 1 ("")`},
		{in: []string{"10.0.0.0/33"}, wantErr: `entry 1 ("10.0.0.0/33")`},
		{in: []string{"fe80::1%eth0"}, wantErr: "zone"},
	}
	for _, tt := range tests {
		got, err := ParsePrefixes(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParsePrefixes(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePrefixes(%q): %v", tt.in, err)
			continue
		}
		strs := make([]string, len(got))
		for i, p := range got {
			strs[i] = p.String()
		}
		if strings.Join(strs, ",") != strings.Join(tt.want, ",") {
			t.Errorf("ParsePrefixes(%q) = %v, want %v", tt.in, strs, tt.want)
		}
	}
}

// FuzzGuardEmbedded checks that an IPv4 address gets the same verdict in
// every IPv6 form that carries it: mapped, 6to4 and NAT64.
func FuzzGuardEmbedded(f *testing.F) {
	for _, s := range []string{"127.0.0.1", "10.1.2.3", "8.8.8.8", "169.254.169.254", "100.64.0.1", "0.0.0.0", "255.255.255.255"} {
		f.Add(netip.MustParseAddr(s).AsSlice())
	}
	g := NewGuard(nil)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) != 4 {
			return
		}
		v4 := netip.AddrFrom4([4]byte(b))
		want := g.Check(v4) == nil
		forms := []netip.Addr{
			netip.AddrFrom16(v4.As16()), // ::ffff:a.b.c.d
			netip.AddrFrom16([16]byte{0x20, 0x02, b[0], b[1], b[2], b[3]}),
			netip.AddrFrom16([16]byte{0, 0x64, 0xff, 0x9b, 12: b[0], 13: b[1], 14: b[2], 15: b[3]}),
		}
		for _, a := range forms {
			if got := g.Check(a) == nil; got != want {
				t.Errorf("Check(%s) allowed = %v, but Check(%s) allowed = %v", a, got, v4, want)
			}
		}
	})
}
