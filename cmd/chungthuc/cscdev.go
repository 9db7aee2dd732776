package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/csc"
)

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// cmdCSCDev runs the development CSC v2 server (package csc) on a loopback address until
// ctx ends: credentials from PEM files (certificate chain issued by the dev PKI from the
// key's CSR with `officer cert`), client credentials and the fixed one-time code from flags.
// It prints "csc-dev listening on http://ADDR" once it accepts connections. Credentials named
// by --provider-page are authorised at the server's own page (CSC oauth2code).
func cmdCSCDev(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("csc-dev", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:8789", "loopback address to listen on")
	clientID := fs.String("client-id", "chungthuc", "OAuth2 client id")
	secret := fs.String("client-secret", "", "OAuth2 client secret (required)")
	otp := fs.String("otp", "123456", "the fixed one-time authorisation code")
	sadLife := fs.Duration("sad-lifetime", 5*time.Minute, "how long a SAD stays usable")
	var creds, atPage multiFlag
	fs.Var(&creds, "credential", "ID=CERT.pem:KEY.pem (chain PEM, end entity first); repeatable")
	fs.Var(&atPage, "provider-page", "ID of a credential authorised at the server's own page (CSC oauth2code) instead of with the code sent to credentials/authorize; repeatable")
	if err := fs.Parse(args); err != nil {
		return usagef("csc-dev: %v", err)
	}
	if *secret == "" || len(creds) == 0 {
		return usagef("csc-dev needs --client-secret and at least one --credential")
	}
	ap, err := netip.ParseAddrPort(*addr)
	if err != nil || !ap.Addr().IsLoopback() {
		return usagef("csc-dev listens on a loopback address only (got %q)", *addr)
	}
	var dcs []*csc.DevCredential
	for _, c := range creds {
		id, files, ok := strings.Cut(c, "=")
		certPath, keyPath, ok2 := strings.Cut(files, ":")
		if !ok || !ok2 || id == "" {
			return usagef("csc-dev: --credential %q is not ID=CERT.pem:KEY.pem", c)
		}
		k, err := certs.LoadPEM(certPath, keyPath)
		if err != nil {
			return err
		}
		dc := &csc.DevCredential{ID: id, Description: k.Chain[0].Subject.CommonName, Key: k.Signer, Chain: k.Chain}
		for _, p := range atPage {
			if p == id {
				dc.AuthMode = "oauth2code"
			}
		}
		dcs = append(dcs, dc)
	}
	for _, p := range atPage {
		if !slices.ContainsFunc(dcs, func(dc *csc.DevCredential) bool { return dc.ID == p }) {
			return usagef("csc-dev: --provider-page %q names no --credential", p)
		}
	}
	srv := csc.NewDevServer(*clientID, *secret, *otp, dcs...)
	srv.SADLifetime = *sadLife
	ln, err := net.Listen("tcp", ap.String())
	if err != nil {
		return fmt.Errorf("csc-dev: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = hs.Close() // shutting down: the serve error below reports nothing new
	}()
	if _, err := fmt.Fprintf(stdout, "csc-dev listening on http://%s\n", ln.Addr()); err != nil {
		_ = ln.Close() // the caller cannot learn the address: stop
		return err
	}
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
