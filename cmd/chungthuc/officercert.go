package main

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/certs/devpki"
)

// cmdOfficerCert registers the certificate of an officer who signs with their own device
// (issue 14): `officer cert --id N --csr officer.csr` has the development PKI issue it from
// a PKCS#10 request made on the device; `officer cert --id N --cert officer.pem` registers
// a certificate a real CA issued, after checking it against the trust pool. The key never
// comes here; from then on the service's own key for the officer is refused (the register's
// certificate is not the key store's), so the officer signs only with the device.
func cmdOfficerCert(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := newFlags("officer cert")
	id := fs.Int64("id", 0, "officer id")
	csrPath := fs.String("csr", "", "PKCS#10 request made on the officer's device (development PKI)")
	certPath := fs.String("cert", "", "PEM certificate issued by a CA, leaf first")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *id <= 0 || (*csrPath == "") == (*certPath == "") {
		return usagef("officer cert: --id and exactly one of --csr or --cert are required")
	}
	path := *csrPath + *certPath
	data, err := os.ReadFile(path)
	if err != nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "cannot read %s: %v", path, err)
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	o, err := a.reg.OfficerByID(ctx, *id)
	if err != nil {
		return err
	}
	u, err := a.reg.UnitByID(ctx, o.UnitID)
	if err != nil {
		return err
	}
	chain, certPEM, err := a.deviceCert(data, *csrPath != "", func(csr []byte) ([]*x509.Certificate, []byte, error) {
		return a.pki.IssueOfficerFromCSR(o, u, csr)
	})
	if err != nil {
		return err
	}
	if cn := chain[0].Subject.CommonName; *certPath != "" && !strings.EqualFold(norm.NFC.String(cn), o.Name) {
		return chungthuc.Errorf(chungthuc.EINVALID, "the certificate is for %q, not officer %d (%q)", cn, o.ID, o.Name)
	}
	if err := a.reg.SetOfficerCert(ctx, o.ID, certPEM); err != nil {
		return err
	}
	out := certInfo(chain[0])
	out["id"] = o.ID
	return printJSON(stdout, out)
}

// deviceCert is the certificate of a signing device to register: issued by the
// development PKI from a PKCS#10 request (fromCSR; issue does it), or one a CA issued,
// checked against the trust pool (valid now, a signing key usage, not a CA). It returns the
// chain (leaf first) and the PEM to record.
func (a *app) deviceCert(data []byte, fromCSR bool, issue func(csr []byte) ([]*x509.Certificate, []byte, error)) ([]*x509.Certificate, []byte, error) {
	if fromCSR {
		if a.pki == nil {
			return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "no development PKI here (production key mode): register the certificate your CA issued with --cert")
		}
		return issue(data)
	}
	chain, err := devpki.CheckOfficerCertificate(data, a.trust, time.Now())
	if err != nil {
		return nil, nil, err
	}
	return chain, certs.EncodeCertificatePEM(chain[0]), nil
}

// certInfo is what the cert commands print of a registered certificate: with its PEM, to
// hand to the device's owner or the remote signing provider (a certificate is public).
func certInfo(c *x509.Certificate) map[string]any {
	return map[string]any{"subject": c.Subject.String(), "serial": hex.EncodeToString(c.SerialNumber.Bytes()),
		"not_after": c.NotAfter.UTC().Format(time.RFC3339), "certificate_pem": string(certs.EncodeCertificatePEM(c))}
}
