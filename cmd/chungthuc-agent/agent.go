package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sync"
)

// Agent is the localhost signing interface (see the package comment) for one key.
type Agent struct {
	origin string
	key    crypto.Signer
	chain  []*x509.Certificate
	// Confirm, when set, is asked before each signature with the base64 digest; false
	// refuses the request (403). One confirmation at a time.
	Confirm func(digest string) bool
	mu      sync.Mutex
}

// NewAgent returns an agent answering only origin (scheme://host[:port], no path).
func NewAgent(origin string, key crypto.Signer, chain []*x509.Certificate) (*Agent, error) {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil {
		return nil, fmt.Errorf("--origin must be the chungthuc base URL (scheme://host[:port]), got %q", origin)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("no certificate")
	}
	return &Agent{origin: u.Scheme + "://" + u.Host, key: key, chain: chain}, nil
}

func (a *Agent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil || (host != "127.0.0.1" && host != "localhost") {
		http.Error(w, "wrong host", http.StatusForbidden)
		return
	}
	if r.Header.Get("Origin") != a.origin {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", a.origin)
	h.Set("Vary", "Origin")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
			h.Set("Access-Control-Allow-Private-Network", "true")
		}
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/certificates":
		var out []string
		for _, c := range a.chain {
			out = append(out, base64.StdEncoding.EncodeToString(c.Raw))
		}
		writeJSON(w, http.StatusOK, map[string]any{"certificates": out})
	case r.Method == http.MethodPost && r.URL.Path == "/v1/sign":
		a.sign(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint"})
	}
}

func (a *Agent) sign(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "application/json required"})
		return
	}
	var req struct {
		Digest    string `json:"digest"`
		Algorithm string `json:"algorithm"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "malformed JSON"})
		return
	}
	d, err := base64.StdEncoding.DecodeString(req.Digest)
	if err != nil || len(d) != sha256.Size || req.Algorithm != "SHA-256" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "digest must be a base64 SHA-256 value and algorithm \"SHA-256\""})
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Confirm != nil && !a.Confirm(req.Digest) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "the officer declined"})
		return
	}
	sig, err := a.key.Sign(rand.Reader, d, crypto.SHA256)
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the token could not sign"})
		return
	}
	alg := "ECDSA"
	if _, ok := a.key.Public().(*rsa.PublicKey); ok {
		alg = "RSA-PKCS1v15"
	}
	writeJSON(w, http.StatusOK, map[string]string{"signature": base64.StdEncoding.EncodeToString(sig), "algorithm": alg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the browser went away: nothing to do
}
