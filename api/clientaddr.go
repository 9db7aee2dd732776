package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxies reads CHUNGTHUC_TRUSTED_PROXIES: comma-separated CIDRs (a bare address
// stands for itself). Empty input is no trusted proxy. Any entry that is not a CIDR or an
// address is an error naming it.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR (e.g. 10.0.0.0/8) or an address", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// proxies is the set of trusted proxy networks.
type proxies []netip.Prefix

func (ps proxies) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

type clientAddrKey struct{}

// resolveClient returns the client address of r: the socket peer, unless the peer is a
// trusted proxy; then the forwarding chain (Forwarded, RFC 7239, else X-Forwarded-For) is
// walked right to left past trusted proxies and the first untrusted address is the client
// (all trusted: the leftmost). A malformed or missing chain gives the peer.
func (ps proxies) resolveClient(r *http.Request) string {
	peer := socketAddr(r)
	if len(ps) == 0 {
		return peer
	}
	pa, err := netip.ParseAddr(peer)
	if err != nil || !ps.trusted(pa) {
		return peer
	}
	chain, ok := forwardedChain(r.Header)
	if !ok || len(chain) == 0 {
		return peer
	}
	for i := len(chain) - 1; i >= 0; i-- {
		if !ps.trusted(chain[i]) {
			return chain[i].String()
		}
	}
	return chain[0].String()
}

// forwardedChain parses the forwarding chain, oldest hop first; ok is false when a header is
// present but malformed (an element without an address, "unknown", an obfuscated name).
func forwardedChain(h http.Header) (chain []netip.Addr, ok bool) {
	if fw := h.Values("Forwarded"); len(fw) > 0 {
		for _, line := range fw {
			for _, elem := range splitQuoted(line, ',') {
				a, ok := forwardedFor(elem)
				if !ok {
					return nil, false
				}
				chain = append(chain, a)
			}
		}
		return chain, true
	}
	for _, line := range h.Values("X-Forwarded-For") {
		for _, f := range strings.Split(line, ",") {
			a, ok := parseNode(strings.TrimSpace(f))
			if !ok {
				return nil, false
			}
			chain = append(chain, a)
		}
	}
	return chain, true
}

// forwardedFor reads the for= parameter of one Forwarded element.
func forwardedFor(elem string) (netip.Addr, bool) {
	var found bool
	var addr netip.Addr
	for _, pair := range splitQuoted(elem, ';') {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return netip.Addr{}, false
		}
		if !strings.EqualFold(strings.TrimSpace(k), "for") {
			continue
		}
		if found {
			return netip.Addr{}, false // two for= in one element
		}
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, `"`) {
			if len(v) < 2 || !strings.HasSuffix(v, `"`) {
				return netip.Addr{}, false
			}
			v = strings.ReplaceAll(v[1:len(v)-1], `\`, "")
		}
		a, ok := parseNode(v)
		if !ok {
			return netip.Addr{}, false
		}
		addr, found = a, true
	}
	return addr, found
}

// parseNode parses a node: IPv4, IPv4:port, IPv6, [IPv6] or [IPv6]:port.
func parseNode(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// splitQuoted splits s at sep outside double-quoted strings.
func splitQuoted(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && quoted:
			i++
		case s[i] == '"':
			quoted = !quoted
		case s[i] == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// clientAddresses resolves every request's client address once (Deps.TrustedProxies) and
// keeps it for clientAddr.
func (s *Server) clientAddresses(next http.Handler) http.Handler {
	if len(s.TrustedProxies) == 0 {
		return next // clientAddr reads the socket peer
	}
	ps := proxies(s.TrustedProxies)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientAddrKey{}, ps.resolveClient(r))))
	})
}

// socketAddr is the connection peer's IP address.
func socketAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clientAddr is the client's IP address, the one address rate limits, login throttling and
// the audit log use: the socket peer, or with trusted proxies configured the address they
// forwarded (clientAddresses).
func clientAddr(r *http.Request) string {
	if a, ok := r.Context().Value(clientAddrKey{}).(string); ok {
		return a
	}
	return socketAddr(r)
}
