package main

import (
	"context"
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
	var certPEM []byte
	var leafSubject, serial string
	var notAfter time.Time
	if *csrPath != "" {
		if a.pki == nil {
			return chungthuc.Errorf(chungthuc.EINVALID, "no development PKI here (production key mode): register the certificate your CA issued with --cert")
		}
		chain, pemOut, err := a.pki.IssueOfficerFromCSR(o, u, data)
		if err != nil {
			return err
		}
		certPEM, leafSubject, serial, notAfter = pemOut, chain[0].Subject.String(), hex.EncodeToString(chain[0].SerialNumber.Bytes()), chain[0].NotAfter
	} else {
		chain, err := devpki.CheckOfficerCertificate(data, a.trust, time.Now())
		if err != nil {
			return err
		}
		if cn := chain[0].Subject.CommonName; !strings.EqualFold(norm.NFC.String(cn), o.Name) {
			return chungthuc.Errorf(chungthuc.EINVALID, "the certificate is for %q, not officer %d (%q)", cn, o.ID, o.Name)
		}
		certPEM, leafSubject, serial, notAfter = certs.EncodeCertificatePEM(chain[0]), chain[0].Subject.String(), hex.EncodeToString(chain[0].SerialNumber.Bytes()), chain[0].NotAfter
	}
	if err := a.reg.SetOfficerCert(ctx, o.ID, certPEM); err != nil {
		return err
	}
	return printJSON(stdout, map[string]any{"id": o.ID, "subject": leafSubject, "serial": serial, "not_after": notAfter.UTC().Format(time.RFC3339)})
}
