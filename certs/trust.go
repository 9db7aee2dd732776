package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/chungthuc/chungthuc"
)

// maxTrustFile bounds one trust anchor file; a bundle of every public root is ~250 KiB.
const maxTrustFile = 16 << 20

// LoadTrustAnchors reads the trust anchors that signed copies are verified against: path
// is a PEM bundle file, or a directory whose *.pem, *.crt and *.cer files (not recursing;
// PEM or a single DER certificate each) are read in name order. Duplicates are dropped.
// It returns the certificates in load order (TrustPool makes the pool).
//
// Errors: ENOTFOUND when path does not exist; EINVALID naming the file when a file does
// not parse, holds no certificate, or when no certificate is found at all; ETOOLARGE for a
// file above 16 MiB.
func LoadTrustAnchors(path string) ([]*x509.Certificate, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "trust anchors %s not found", path)
	} else if err != nil {
		return nil, fmt.Errorf("certs: trust anchors: %w", err)
	}
	var files []string
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("certs: trust anchors: %w", err)
		}
		for _, e := range entries {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".pem", ".crt", ".cer":
				if e.Type().IsRegular() || e.Type()&fs.ModeSymlink != 0 {
					files = append(files, filepath.Join(path, e.Name()))
				}
			}
		}
		sort.Strings(files)
	} else {
		files = []string{path}
	}

	var anchors []*x509.Certificate
	seen := map[string]bool{}
	for _, f := range files {
		certs, err := readCertFile(f)
		if err != nil {
			return nil, err
		}
		for _, c := range certs {
			if seen[string(c.Raw)] {
				continue
			}
			seen[string(c.Raw)] = true
			anchors = append(anchors, c)
		}
	}
	if len(anchors) == 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "no trust anchor certificates in %s", path)
	}
	return anchors, nil
}

// readCertFile parses one PEM bundle or DER certificate file.
func readCertFile(path string) ([]*x509.Certificate, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("certs: %s: %w", path, err)
	}
	if st.Size() > maxTrustFile {
		return nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "%s: larger than %d bytes", path, maxTrustFile)
	}
	data, err := readNamedFile(path, "certificate file")
	if err != nil {
		return nil, err
	}
	if b, _ := pem.Decode(data); b == nil && !bytes.Contains(data, []byte("-----BEGIN")) {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "%s: neither PEM nor a DER certificate", path)
		}
		return []*x509.Certificate{c}, nil
	}
	certs, err := ParseCertificatePEM(data)
	if err != nil {
		return nil, withPrefix(path, err)
	}
	return certs, nil
}

// TrustPool builds the service's one trust pool, once at start-up, from the configuration:
// the anchors at anchorsPath (LoadTrustAnchors; "" for none), the roots given (the
// development root, when the development PKI is in use) and the self-signed top of each of
// chains (the configured keys' chains, so that the service trusts the copies it signs). The
// same pool is given to the verifier, to archive renewal and to the revocation fetcher.
//
// Errors: those of LoadTrustAnchors — a trust anchor that cannot be loaded stops start-up.
func TrustPool(anchorsPath string, roots []*x509.Certificate, chains [][]*x509.Certificate) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if anchorsPath != "" {
		anchors, err := LoadTrustAnchors(anchorsPath)
		if err != nil {
			return nil, err
		}
		for _, c := range anchors {
			pool.AddCert(c)
		}
	}
	for _, c := range roots {
		if c != nil {
			pool.AddCert(c)
		}
	}
	for _, chain := range chains {
		if len(chain) == 0 {
			continue
		}
		if top := chain[len(chain)-1]; bytes.Equal(top.RawIssuer, top.RawSubject) && top.CheckSignatureFrom(top) == nil {
			pool.AddCert(top)
		}
	}
	return pool, nil
}
