// Command chungthuc-agent is the reference local signing agent: it lets a chungthuc
// workspace page in the officer's browser sign a digest with the officer's own PKCS#11
// token (USB token, SoftHSM2 in tests), so the key never leaves the token and the server
// never holds it.
//
// It listens on 127.0.0.1 only and answers exactly one web origin, the chungthuc base URL
// given with --origin:
//
//	GET  /v1/certificates  → {"certificates": ["<base64 DER>", …]}  (end entity first)
//	POST /v1/sign          {"digest": "<base64 SHA-256>", "algorithm": "SHA-256"}
//	                       → {"signature": "<base64>", "algorithm": "ECDSA"|"RSA-PKCS1v15"}
//
// The caller is the workspace's signing page (/app/c/{id}/sign, api/static/sign.js): it
// posts the digest, reads /v1/certificates and submits both to the service with the page's
// CSRF token; the page's Content-Security-Policy lets it connect to the agent's origin
// (CHUNGTHUC_AGENT_URL, default http://127.0.0.1:8790) and nowhere else off-site.
//
// The digest is the one chungthuc returns as to_sign.digest (the CMS signed attributes'
// hash). ECDSA signatures are ASN.1 DER, RSA ones PKCS#1 v1.5; chungthuc's completion
// step verifies them against the registered certificate before anything is issued.
//
// What stops any other web page from using the agent:
//   - requests must carry Origin equal to --origin (browsers always send Origin on
//     cross-origin fetches and POSTs, and a page cannot forge it); a request without it or
//     with another origin gets 403 and no CORS headers, so the browser hides any answer;
//   - POST bodies must be application/json, which forces a CORS preflight; the preflight
//     answers Access-Control-Allow-Origin only for --origin and, for Chrome's Private
//     Network Access, Access-Control-Allow-Private-Network: true only for that origin;
//   - the Host header must be 127.0.0.1:PORT or localhost:PORT (DNS rebinding);
//   - with --confirm (default on) every signature waits for the officer to type "y" on the
//     agent's terminal after seeing the digest, so even the configured origin cannot sign
//     silently;
//   - the PIN comes from CHUNGTHUC_AGENT_PIN, never from a request.
//
// Usage:
//
//	CHUNGTHUC_AGENT_PIN=… chungthuc-agent --origin https://chungthuc.example.vn \
//	    --module /usr/lib/softhsm/libsofthsm2.so --token officer --key officer \
//	    --cert officer-chain.pem [--addr 127.0.0.1:8790] [--confirm=true]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc/certs"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "chungthuc-agent:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:8790", "loopback address to listen on")
	origin := flag.String("origin", "", "the chungthuc base URL allowed to use the agent (required)")
	module := flag.String("module", "", "PKCS#11 module path")
	token := flag.String("token", "", "token label")
	keyLabel := flag.String("key", "", "private key label (CKA_LABEL)")
	certPath := flag.String("cert", "", "certificate chain PEM of the key, end entity first")
	confirm := flag.Bool("confirm", true, "ask on the terminal before each signature")
	flag.Parse()
	ap, err := netip.ParseAddrPort(*addr)
	if err != nil || !ap.Addr().IsLoopback() {
		return fmt.Errorf("--addr must be a loopback address, got %q", *addr)
	}
	data, err := os.ReadFile(*certPath)
	if err != nil {
		return err
	}
	chain, err := certs.ParseCertificatePEM(data)
	if err != nil {
		return err
	}
	key, err := certs.OpenPKCS11(certs.PKCS11Config{Module: *module, TokenLabel: *token, KeyLabel: *keyLabel, PIN: os.Getenv("CHUNGTHUC_AGENT_PIN")}, chain[0])
	if err != nil {
		return err
	}
	defer func() { _ = key.Close() }() // exiting: nothing to do about a close error
	a, err := NewAgent(*origin, key, chain)
	if err != nil {
		return err
	}
	if *confirm {
		in := bufio.NewReader(os.Stdin)
		a.Confirm = func(digest string) bool {
			fmt.Fprintf(os.Stderr, "Sign digest %s for %s? [y/N] ", digest, *origin)
			line, err := in.ReadString('\n')
			return err == nil && strings.TrimSpace(strings.ToLower(line)) == "y"
		}
	}
	ln, err := net.Listen("tcp", ap.String())
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	hs := &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	go func() { <-ctx.Done(); _ = hs.Close() }() // closing on interrupt; Serve returns below
	fmt.Fprintf(os.Stderr, "chungthuc-agent listening on http://%s for %s\n", ln.Addr(), *origin)
	if err := hs.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
