package api

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chungthuc/chungthuc"
)

// countingRegister counts token lookups.
type countingRegister struct {
	PublicRegister
	lookups atomic.Int64
}

func (c *countingRegister) CertificationByToken(ctx context.Context, token string) (*chungthuc.Certification, error) {
	c.lookups.Add(1)
	return c.PublicRegister.CertificationByToken(ctx, token)
}

// TestNoEnumeration: malformed, unknown and wrong tokens get the same status and body on
// the page, the JSON and the download, after the same work (one register lookup each), so
// neither the answer nor its timing tells them apart.
func TestNoEnumeration(t *testing.T) {
	var reg *countingRegister
	e := newEnv(t, func(d *Deps) {
		reg = &countingRegister{PublicRegister: d.Public}
		d.Public = reg
	})
	out := e.certifyPL()
	real := out.Certification.Token
	last := byte('A')
	if real[len(real)-1] == 'A' {
		last = 'B'
	}
	tokens := map[string]string{
		"unknown":   strings.Repeat("A", len(real)),
		"one off":   real[:len(real)-1] + string(last),
		"too short": "abc",
		"bad chars": strings.Repeat("~", len(real)),
		"too long":  strings.Repeat("A", 300),
	}
	for _, path := range []string{"/v/%s", "/api/v1/verify/%s"} {
		var first string
		for name, tok := range tokens {
			before := reg.lookups.Load()
			res, body := e.get(strings.Replace(path, "%s", tok, 1))
			if res.StatusCode != 404 {
				t.Errorf("%s %s: %d, want 404", path, name, res.StatusCode)
			}
			if n := reg.lookups.Load() - before; n != 1 {
				t.Errorf("%s %s: %d register lookups, want 1", path, name, n)
			}
			body = stripRequestID(body)
			if first == "" {
				first = body
			} else if body != first {
				t.Errorf("%s %s: the answer differs from the other unknown tokens", path, name)
			}
		}
	}
}

// stripRequestID removes the per-request id from an answer.
func stripRequestID(s string) string {
	for _, key := range []string{`"request_id": "`, `"request_id":"`} {
		if i := strings.Index(s, key); i >= 0 {
			j := strings.IndexByte(s[i+len(key):], '"')
			s = s[:i] + s[i+len(key)+j:]
		}
	}
	return s
}
