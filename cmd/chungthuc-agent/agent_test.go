package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc/internal/testpki"
)

const origin = "https://chungthuc.example.vn"

func newAgent(t *testing.T, key crypto.Signer) *Agent {
	p := testpki.New()
	a, err := NewAgent(origin+"/", key, []*x509.Certificate{p.Certify("Lê Thị Ĩ", "HB", key.Public()), p.Root})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func do(a *Agent, method, path, org, ctype, body string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://127.0.0.1:8790"+path, strings.NewReader(body))
	if org != "" {
		r.Header.Set("Origin", org)
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	return w
}

func signBody(d []byte) string {
	return `{"digest":"` + base64.StdEncoding.EncodeToString(d) + `","algorithm":"SHA-256"}`
}

func TestAgentSigns(t *testing.T) {
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	d := sha256.Sum256([]byte("signed attributes"))
	for _, key := range []crypto.Signer{ek, rk} {
		a := newAgent(t, key)
		w := do(a, "GET", "/v1/certificates", origin, "", "")
		var certs struct{ Certificates []string }
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &certs) != nil || len(certs.Certificates) != 2 || w.Header().Get("Access-Control-Allow-Origin") != origin {
			t.Fatalf("certificates: %d %s", w.Code, w.Body)
		}
		w = do(a, "POST", "/v1/sign", origin, "application/json", signBody(d[:]))
		var out struct{ Signature, Algorithm string }
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &out) != nil {
			t.Fatalf("sign: %d %s", w.Code, w.Body)
		}
		sig, _ := base64.StdEncoding.DecodeString(out.Signature)
		switch pub := key.Public().(type) {
		case *ecdsa.PublicKey:
			if out.Algorithm != "ECDSA" || !ecdsa.VerifyASN1(pub, d[:], sig) {
				t.Fatal("EC signature does not verify")
			}
		case *rsa.PublicKey:
			if out.Algorithm != "RSA-PKCS1v15" || rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) != nil {
				t.Fatal("RSA signature does not verify")
			}
		}
	}
}

func TestAgentRefusals(t *testing.T) {
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	a := newAgent(t, ek)
	d := sha256.Sum256([]byte("x"))
	// Another web page, no Origin, a rebinding Host.
	for _, org := range []string{"https://evil.example", "", "http://chungthuc.example.vn", "null"} {
		w := do(a, "POST", "/v1/sign", org, "application/json", signBody(d[:]))
		if w.Code != 403 || w.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("origin %q: %d %v", org, w.Code, w.Header())
		}
		w = do(a, "OPTIONS", "/v1/sign", org, "", "", "Access-Control-Request-Private-Network", "true")
		if w.Code != 403 || w.Header().Get("Access-Control-Allow-Private-Network") != "" {
			t.Fatalf("preflight from %q allowed", org)
		}
	}
	r := httptest.NewRequest("POST", "http://evil.example:8790/v1/sign", strings.NewReader(signBody(d[:])))
	r.Header.Set("Origin", origin)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	a.ServeHTTP(w, r)
	if w.Code != 403 {
		t.Fatalf("rebinding host accepted: %d", w.Code)
	}
	// The configured origin's preflight passes, with Private Network Access.
	w = do(a, "OPTIONS", "/v1/sign", origin, "", "", "Access-Control-Request-Private-Network", "true")
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Private-Network") != "true" || w.Header().Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("preflight: %d %v", w.Code, w.Header())
	}
	// A simple (no-preflight) content type, malformed digests.
	if w := do(a, "POST", "/v1/sign", origin, "text/plain", signBody(d[:])); w.Code != 415 {
		t.Fatalf("text/plain: %d", w.Code)
	}
	for _, body := range []string{signBody([]byte("short")), `{"digest":"` + base64.StdEncoding.EncodeToString(d[:]) + `","algorithm":"MD5"}`, "{", strings.Repeat("x", 5000)} {
		if w := do(a, "POST", "/v1/sign", origin, "application/json", body); w.Code != 400 {
			t.Fatalf("%.40q: %d", body, w.Code)
		}
	}
	// The officer declines; then accepts.
	var asked []string
	answer := false
	a.Confirm = func(dg string) bool { asked = append(asked, dg); return answer }
	if w := do(a, "POST", "/v1/sign", origin, "application/json", signBody(d[:])); w.Code != 403 || len(asked) != 1 || asked[0] != base64.StdEncoding.EncodeToString(d[:]) {
		t.Fatalf("declined: %d %v", w.Code, asked)
	}
	answer = true
	if w := do(a, "POST", "/v1/sign", origin, "application/json", signBody(d[:])); w.Code != 200 {
		t.Fatalf("confirmed: %d", w.Code)
	}
	// Bad origins at start.
	for _, o := range []string{"", "ftp://x", "https://x/path", "https://u:p@x"} {
		if _, err := NewAgent(o, ek, a.chain); err == nil {
			t.Fatalf("origin %q accepted", o)
		}
	}
}

func BenchmarkAgentSign(b *testing.B) {
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p := testpki.New()
	a, _ := NewAgent(origin, ek, []*x509.Certificate{p.Certify("x", "HB", ek.Public())})
	d := sha256.Sum256([]byte("x"))
	body := signBody(d[:])
	b.Run("agent-http-handler", func(b *testing.B) {
		for b.Loop() {
			if w := do(a, "POST", "/v1/sign", origin, "application/json", body); w.Code != 200 {
				b.Fatal(w.Code)
			}
		}
	})
	b.Run("in-process", func(b *testing.B) {
		for b.Loop() {
			if _, err := ek.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
	})
}
