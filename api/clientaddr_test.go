package api

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func mustProxies(t testing.TB, s string) proxies {
	t.Helper()
	ps, err := ParseTrustedProxies(s)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// TestResolveClient: forwarded headers count only from a trusted peer, walked right to left.
func TestResolveClient(t *testing.T) {
	ps := mustProxies(t, "10.0.0.0/8, fd00::/8")
	for _, c := range []struct {
		name, peer string
		hdr        map[string][]string
		want       string
	}{
		{"spoofed XFF from an untrusted peer", "203.0.113.9:5000", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "203.0.113.9"},
		{"spoofed Forwarded from an untrusted peer", "203.0.113.9:5000", map[string][]string{"Forwarded": {"for=198.51.100.1"}}, "203.0.113.9"},
		{"trusted peer, no header", "10.0.0.1:5000", nil, "10.0.0.1"},
		{"one trusted proxy", "10.0.0.1:5000", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"two trusted proxies", "10.0.0.1:5000", map[string][]string{"X-Forwarded-For": {"198.51.100.1, 10.0.0.2"}}, "198.51.100.1"},
		{"client spoofs the left of the chain", "10.0.0.1:5000", map[string][]string{"X-Forwarded-For": {"1.2.3.4, 198.51.100.1, 10.0.0.2"}}, "198.51.100.1"},
		{"chain over two header lines", "10.0.0.1:5000", map[string][]string{"X-Forwarded-For": {"1.2.3.4", "198.51.100.1, 10.0.0.2"}}, "198.51.100.1"},
		{"all trusted: leftmost", "10.0.0.1:5000", map[string][]string{"X-Forwarded-For": {"10.0.0.3, 10.0.0.2"}}, "10.0.0.3"},
		{"Forwarded quoted IPv6 with port", "[fd00::1]:5000", map[string][]string{"Forwarded": {`for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.2;by=10.0.0.1`}}, "2001:db8:cafe::17"},
		{"Forwarded IPv4 with port, quoted", "10.0.0.1:5000", map[string][]string{"Forwarded": {`For="192.0.2.43:47011"`}}, "192.0.2.43"},
		{"Forwarded wins over XFF", "10.0.0.1:5000", map[string][]string{"Forwarded": {"for=192.0.2.60"}, "X-Forwarded-For": {"192.0.2.61"}}, "192.0.2.60"},
		{"malformed XFF", "10.0.0.1:5000", map[string][]string{"X-Forwarded-For": {"198.51.100.1, not-an-ip"}}, "10.0.0.1"},
		{"empty XFF element", "10.0.0.1:5000", map[string][]string{"X-Forwarded-For": {"198.51.100.1,,"}}, "10.0.0.1"},
		{"Forwarded unknown", "10.0.0.1:5000", map[string][]string{"Forwarded": {"for=unknown"}}, "10.0.0.1"},
		{"Forwarded obfuscated", "10.0.0.1:5000", map[string][]string{"Forwarded": {"for=_hidden, for=198.51.100.1"}}, "10.0.0.1"},
		{"Forwarded unterminated quote", "10.0.0.1:5000", map[string][]string{"Forwarded": {`for="[2001:db8::1]`}}, "10.0.0.1"},
		{"Forwarded element without for", "10.0.0.1:5000", map[string][]string{"Forwarded": {"proto=https"}}, "10.0.0.1"},
		{"Forwarded two for in one element", "10.0.0.1:5000", map[string][]string{"Forwarded": {"for=192.0.2.1;for=192.0.2.2"}}, "10.0.0.1"},
		{"IPv4-mapped peer is trusted", "[::ffff:10.0.0.1]:5000", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = c.peer
		for k, vs := range c.hdr {
			for _, v := range vs {
				r.Header.Add(k, v)
			}
		}
		if got := ps.resolveClient(r); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
		// Without trusted proxies the header is never read.
		if got := proxies(nil).resolveClient(r); got != socketAddr(r) {
			t.Errorf("%s: no proxies configured, got %s", c.name, got)
		}
	}
}

// TestClientNetThroughProxy: the forwarded IPv6 client is keyed per /64 like a direct one,
// and the server's middleware makes clientAddr/clientNet see the forwarded address.
func TestClientNetThroughProxy(t *testing.T) {
	s := &Server{Deps: Deps{TrustedProxies: mustProxies(t, "10.0.0.0/8")}}
	var addr, network string
	h := s.clientAddresses(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr, network = clientAddr(r), clientNet(r)
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.1.2.3:443"
	r.Header.Set("Forwarded", `for="[2001:db8:1:2:aaaa::5]:80"`)
	h.ServeHTTP(httptest.NewRecorder(), r)
	if addr != "2001:db8:1:2:aaaa::5" || network != "2001:db8:1:2::/64" {
		t.Fatalf("addr %s net %s", addr, network)
	}
	r.RemoteAddr = "192.0.2.1:443" // not trusted
	h.ServeHTTP(httptest.NewRecorder(), r)
	if addr != "192.0.2.1" {
		t.Fatalf("untrusted peer's header used: %s", addr)
	}
}

// BenchmarkClientAddr: resolving the client through two trusted proxies per request against
// reading the socket peer directly.
func BenchmarkClientAddr(b *testing.B) {
	ps := mustProxies(b, "10.0.0.0/8, fd00::/8")
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.1:5000"
	r.Header.Set("X-Forwarded-For", "198.51.100.1, 10.0.0.2")
	b.Run("socket", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = socketAddr(r)
		}
	})
	b.Run("xff-2-proxies", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = ps.resolveClient(r)
		}
	})
	r2 := r.Clone(r.Context())
	r2.Header.Del("X-Forwarded-For")
	r2.Header.Set("Forwarded", `for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.2`)
	b.Run("forwarded-2-proxies", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = ps.resolveClient(r2)
		}
	})
}
