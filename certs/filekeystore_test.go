package certs

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

func TestFileKeyStore(t *testing.T) {
	ctx := context.Background()
	p := openTestPKI(t, Options{})
	seal, err := p.IssueSeal(unitPL)
	if err != nil {
		t.Fatal(err)
	}
	_, pem1, err := p.IssueOfficer(testOfficer(1, "Trần Văn Nghĩa", ""), unitPL)
	if err != nil {
		t.Fatal(err)
	}
	_, pem2, err := p.IssueOfficer(testOfficer(2, "Lê Thị Ĩ", ""), unitPL)
	if err != nil {
		t.Fatal(err)
	}
	p12 := filepath.Join(t.TempDir(), "seal.p12")
	_, sealKey := p.sealPaths("PL")
	data, err := pkcs12.Modern.Encode(rawKey(t, sealKey), seal.Chain[0], seal.Chain[1:], "pw")
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, p12, data)
	cert1, key1 := p.officerPaths(1)

	s, err := NewFileKeyStore(
		map[string]KeyFile{"PL": {PKCS12: p12, Password: "pw"}},
		map[int64]KeyFile{1: {Cert: cert1, Key: key1}},
	)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.SealKey(ctx, unitPL)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Chain[0].Raw, seal.Chain[0].Raw) || len(got.Chain) != 2 {
		t.Error("SealKey returned another chain")
	}
	o := testOfficer(1, "", "")
	o.CertPEM = pem1
	if _, err := s.OfficerKey(ctx, o); err != nil {
		t.Fatal(err)
	}
	o.CertPEM = pem2
	_, err = s.OfficerKey(ctx, o)
	wantErrorCode(t, err, chungthuc.ECONFLICT)
	_, err = s.SealKey(ctx, unitHB)
	wantErrorCode(t, err, chungthuc.ENOTFOUND)
	_, err = s.OfficerKey(ctx, testOfficer(2, "", ""))
	wantErrorCode(t, err, chungthuc.ENOTFOUND)

	// A wrong file stops start-up and names whose key it is.
	_, err = NewFileKeyStore(nil, map[int64]KeyFile{1: {Cert: cert1, Key: filepath.Join(p.Dir, "units", "PL", "seal.key")}})
	wantErrorCode(t, err, chungthuc.EINVALID)
	if !strings.Contains(err.Error(), "officer 1") {
		t.Errorf("error %q does not name the officer", err)
	}
	_, err = NewFileKeyStore(map[string]KeyFile{"PL": {PKCS12: p12, Password: "sai"}}, nil)
	wantErrorCode(t, err, chungthuc.EUNAUTHORIZED)
	_, err = NewFileKeyStore(map[string]KeyFile{"PL": {PKCS12: p12, Cert: cert1}}, nil)
	wantErrorCode(t, err, chungthuc.EINVALID)
}
