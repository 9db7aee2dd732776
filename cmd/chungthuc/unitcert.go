package main

import (
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/chungthuc/chungthuc"
)

// cmdUnitCert registers the certificate of the unit's seal when the records clerk applies
// it with the unit's own device (issue 14), mirroring `officer cert`: `unit cert --unit
// CODE --csr seal.csr` has the development PKI issue it from a PKCS#10 request made on the
// device; `--cert seal.pem` registers a CA-issued one after checking it against the trust
// pool; `--remove` goes back to the key store's seal. `--default external|server` sets how
// API requests that do not choose are signed in this unit. From then on the seal of an
// external certification is awaited from a clerk (POST /api/v1/certifications/{id}/signature).
func cmdUnitCert(ctx context.Context, cfg *Config, args []string, stdout io.Writer, logger *slog.Logger) error {
	fs := newFlags("unit cert")
	code := fs.String("unit", "", "unit code")
	csrPath := fs.String("csr", "", "PKCS#10 request made on the unit's seal device (development PKI)")
	certPath := fs.String("cert", "", "PEM certificate of the seal issued by a CA, leaf first")
	remove := fs.Bool("remove", false, "remove the registered seal certificate (the key store's seal signs again)")
	def := fs.String("default", "", "default signing of the unit's API requests: external or server (unchanged when empty)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	given := 0
	for _, b := range []bool{*csrPath != "", *certPath != "", *remove} {
		if b {
			given++
		}
	}
	if *code == "" || given > 1 || (given == 0 && *def == "") {
		return usagef("unit cert: --unit and one of --csr, --cert or --remove (or --default alone) are required")
	}
	if *def != "" && *def != "external" && *def != "server" {
		return usagef("unit cert: --default must be external or server")
	}
	a, err := openApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.reg.UnitByCode(ctx, strings.ToUpper(*code))
	if err != nil {
		return err
	}
	certPEM, byDefault := u.SealCertPEM, u.ExternalSigning
	if *def != "" {
		byDefault = *def == "external"
	}
	out := map[string]any{"unit": u.Code}
	switch {
	case *remove:
		certPEM = nil
	case *csrPath != "" || *certPath != "":
		path := *csrPath + *certPath
		data, err := os.ReadFile(path)
		if err != nil {
			return chungthuc.Errorf(chungthuc.EINVALID, "cannot read %s: %v", path, err)
		}
		chain, pemOut, err := a.deviceCert(data, *csrPath != "", func(csr []byte) ([]*x509.Certificate, []byte, error) {
			return a.pki.IssueSealFromCSR(u, csr)
		})
		if err != nil {
			return err
		}
		certPEM = pemOut
		for k, v := range certInfo(chain[0]) {
			out[k] = v
		}
	}
	if err := a.reg.SetUnitExternalSigning(ctx, u.ID, certPEM, byDefault); err != nil {
		return err
	}
	out["seal_certificate"] = len(certPEM) > 0
	out["default_signing"] = map[bool]string{true: "external", false: "server"}[byDefault]
	return printJSON(stdout, out)
}
