package devpki

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/internal/testpki/pkicheck"
	"golang.org/x/text/unicode/norm"
)

func TestVietnameseSubjectsRoundTrip(t *testing.T) {
	p := openTestPKI(t, Options{})
	tests := []struct {
		name, title, unit string
	}{
		{"Trần Văn Nghĩa", "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH", "Phường Hòa Bình"},
		{"Lê Thị Ĩ", "", "Phường Hòa Bình"},
		{"Nguyễn Thị ĩ (Bé)", "CHỦ TỊCH", "Xã Ĩa (cũ)"},
		{`Đặng Văn \ Ưng`, `Phó trưởng phòng (\)`, `Ủy ban nhân dân phường Hòa Bình`},
		{"Phạm Thị Ngọc Ánh", "TM. ỦY BAN NHÂN DÂN", "Phường Hòa Bình"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := &chungthuc.Unit{ID: int64(10 + i), Code: fmt.Sprintf("U%d", i), Name: tc.unit}
			o := &chungthuc.Officer{ID: int64(100 + i), UnitID: u.ID, Name: tc.name, Title: tc.title}
			sk, certPEM, err := p.IssueOfficer(o, u)
			if err != nil {
				t.Fatal(err)
			}
			// Read back from the PEM, not from memory.
			certs, err := certs.ParseCertificatePEM(certPEM)
			if err != nil {
				t.Fatal(err)
			}
			c := certs[0]
			if !bytes.Equal(c.Raw, sk.Chain[0].Raw) {
				t.Fatal("returned PEM is not the chain's leaf")
			}
			if c.Subject.CommonName != tc.name {
				t.Errorf("CN = %q, want %q", c.Subject.CommonName, tc.name)
			}
			if !slices.Equal(c.Subject.Organization, []string{tc.unit}) {
				t.Errorf("O = %q, want %q", c.Subject.Organization, tc.unit)
			}
			if !slices.Equal(c.Subject.Country, []string{"VN"}) {
				t.Errorf("C = %q", c.Subject.Country)
			}
			if got := titleOf(c.Subject); got != tc.title {
				t.Errorf("title = %q, want %q", got, tc.title)
			}
			checkStringTags(t, c.RawSubject)

			seal, err := p.IssueSeal(u)
			if err != nil {
				t.Fatal(err)
			}
			s := seal.Chain[0].Subject
			if s.CommonName != tc.unit || !slices.Equal(s.Organization, []string{tc.unit}) || s.SerialNumber != u.Code {
				t.Errorf("seal subject = %q", s.String())
			}
			checkStringTags(t, seal.Chain[0].RawSubject)
		})
	}
}

// checkStringTags asserts that C and serialNumber are PrintableString and every other
// attribute of a DER name is UTF8String.
func checkStringTags(t *testing.T, rawName []byte) {
	t.Helper()
	var rdns []asn1.RawValue
	if _, err := asn1.Unmarshal(rawName, &rdns); err != nil {
		t.Fatal(err)
	}
	for _, set := range rdns {
		var atvs []struct {
			Type  asn1.ObjectIdentifier
			Value asn1.RawValue
		}
		if _, err := asn1.UnmarshalWithParams(set.FullBytes, &atvs, "set"); err != nil {
			t.Fatal(err)
		}
		for _, a := range atvs {
			want := asn1.TagUTF8String
			if a.Type.Equal(oidCountry) || a.Type.Equal(oidSerialNumber) {
				want = asn1.TagPrintableString
			}
			if a.Value.Tag != want {
				t.Errorf("attribute %v has tag %d, want %d", a.Type, a.Value.Tag, want)
			}
		}
	}
}

func TestNamesAreNormalisedToNFC(t *testing.T) {
	p := openTestPKI(t, Options{})
	nfc := "Trần Văn Nghĩa"
	nfd := norm.NFD.String(nfc)
	if nfd == nfc {
		t.Fatal("test needs a decomposable name")
	}
	sk, _, err := p.IssueOfficer(testOfficer(1, nfd, ""), &chungthuc.Unit{ID: 1, Code: "HB", Name: norm.NFD.String(unitPL.Name)})
	if err != nil {
		t.Fatal(err)
	}
	if got := sk.Chain[0].Subject.CommonName; got != nfc {
		t.Errorf("CN = %q, want NFC %q", got, nfc)
	}
	if got := sk.Chain[0].Subject.Organization[0]; got != unitPL.Name {
		t.Errorf("O = %q, want NFC %q", got, unitPL.Name)
	}
}

func TestBadInputsRefused(t *testing.T) {
	p := openTestPKI(t, Options{})
	long := strings.Repeat("Ă", 65)
	cases := []struct {
		name string
		o    *chungthuc.Officer
		u    *chungthuc.Unit
	}{
		{"no officer", nil, unitPL},
		{"no unit", testOfficer(1, "A", ""), nil},
		{"officer without ID", testOfficer(0, "Trần Văn Nghĩa", ""), unitPL},
		{"officer of another unit", &chungthuc.Officer{ID: 3, UnitID: 2, Name: "A"}, unitPL},
		{"empty name", testOfficer(1, "  ", ""), unitPL},
		{"name with spaces around", testOfficer(1, " Trần Văn Nghĩa", ""), unitPL},
		{"control character", testOfficer(1, "Trần\nVăn", ""), unitPL},
		{"invalid UTF-8", testOfficer(1, "Tr\xffn", ""), unitPL},
		{"too long", testOfficer(1, long, ""), unitPL},
		{"title too long", testOfficer(1, "A", long), unitPL},
		{"empty unit name", testOfficer(1, "A", ""), &chungthuc.Unit{ID: 1, Code: "HB"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := p.IssueOfficer(tc.o, tc.u)
			pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
		})
	}
	for _, code := range []string{"", "../etc", "a/b", "Đ", "P L", strings.Repeat("A", 33), "-PL"} {
		_, err := p.IssueSeal(&chungthuc.Unit{Code: code, Name: "Phường X"})
		pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
		_, err = p.SealKey(context.Background(), &chungthuc.Unit{Code: code})
		pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	}
	_, err := Open(t.TempDir(), Options{Algorithm: "dsa-1024"})
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	// Nothing was written for refused requests.
	if entries, _ := os.ReadDir(filepath.Join(p.Dir, "officers")); len(entries) != 0 {
		t.Errorf("refused requests left files: %v", entries)
	}
}

func TestCertificateProfile(t *testing.T) {
	p := openTestPKI(t, Options{})
	root := p.Root()
	if !root.IsCA || !root.MaxPathLenZero || root.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("root: IsCA=%v MaxPathLenZero=%v KeyUsage=%v", root.IsCA, root.MaxPathLenZero, root.KeyUsage)
	}
	if got := root.NotAfter.Sub(pkiTestNow); got != RootValidity {
		t.Errorf("root valid for %v after now, want %v", got, RootValidity)
	}
	if len(root.SubjectKeyId) != 20 {
		t.Errorf("root SKI = %x", root.SubjectKeyId)
	}
	sk, _, err := p.IssueOfficer(testOfficer(7, "Trần Văn Nghĩa", "CHỦ TỊCH"), unitPL)
	if err != nil {
		t.Fatal(err)
	}
	seal, err := p.IssueSeal(unitPL)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*x509.Certificate{sk.Chain[0], seal.Chain[0]} {
		if c.IsCA || !c.BasicConstraintsValid {
			t.Errorf("%s: leaf must be a non-CA", c.Subject)
		}
		if c.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment {
			t.Errorf("%s: KeyUsage = %v", c.Subject, c.KeyUsage)
		}
		if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}) {
			t.Errorf("%s: ExtKeyUsage = %v", c.Subject, c.ExtKeyUsage)
		}
		if len(c.UnknownExtKeyUsage) != 2 || !c.UnknownExtKeyUsage[0].Equal(OIDExtKeyUsageDocumentSigning) ||
			!c.UnknownExtKeyUsage[1].Equal(OIDExtKeyUsageMSDocumentSigning) {
			t.Errorf("%s: other EKUs = %v", c.Subject, c.UnknownExtKeyUsage)
		}
		if got := c.NotAfter.Sub(pkiTestNow); got != LeafValidity {
			t.Errorf("%s: valid for %v after now, want %v", c.Subject, got, LeafValidity)
		}
		if !c.NotBefore.Before(pkiTestNow) {
			t.Errorf("%s: NotBefore %v not before now", c.Subject, c.NotBefore)
		}
		if c.SerialNumber.Sign() <= 0 || c.SerialNumber.BitLen() > 128 {
			t.Errorf("%s: serial %x", c.Subject, c.SerialNumber)
		}
		if len(c.SubjectKeyId) != 20 || !bytes.Equal(c.AuthorityKeyId, root.SubjectKeyId) {
			t.Errorf("%s: SKI %x AKI %x root SKI %x", c.Subject, c.SubjectKeyId, c.AuthorityKeyId, root.SubjectKeyId)
		}
		if _, ok := c.PublicKey.(*ecdsa.PublicKey); !ok {
			t.Errorf("%s: key %T, want ECDSA", c.Subject, c.PublicKey)
		}
		if c.CheckSignatureFrom(root) != nil {
			t.Errorf("%s: not signed by the root", c.Subject)
		}
		// Go's verifier, as a relying party would use it.
		pool := x509.NewCertPool()
		pool.AddCert(root)
		if _, err := c.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: pkiTestNow,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}); err != nil {
			t.Errorf("%s: %v", c.Subject, err)
		}
	}
	if sk.Chain[0].SerialNumber.Cmp(seal.Chain[0].SerialNumber) == 0 {
		t.Error("two certificates share a serial")
	}
	if len(sk.Chain) != 2 || !bytes.Equal(sk.Chain[1].Raw, root.Raw) {
		t.Errorf("chain = %d certificates, want leaf and root", len(sk.Chain))
	}
}

func TestLeafNeverOutlivesRoot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pki")
	if _, err := Open(dir, Options{Now: func() time.Time { return pkiTestNow }}); err != nil {
		t.Fatal(err)
	}
	late := pkiTestNow.Add(RootValidity - 365*24*time.Hour)
	p, err := Open(dir, Options{Now: func() time.Time { return late }})
	if err != nil {
		t.Fatal(err)
	}
	seal, err := p.IssueSeal(unitPL)
	if err != nil {
		t.Fatal(err)
	}
	if !seal.Chain[0].NotAfter.Equal(p.Root().NotAfter) {
		t.Errorf("leaf NotAfter %v, root NotAfter %v", seal.Chain[0].NotAfter, p.Root().NotAfter)
	}
}

func TestFileModes(t *testing.T) {
	p := openTestPKI(t, Options{})
	if _, err := p.IssueSeal(unitPL); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.IssueOfficer(testOfficer(12, "Lê Thị Ĩ", ""), unitPL); err != nil {
		t.Fatal(err)
	}
	want := map[string]fs.FileMode{
		"":                  0o700,
		"root.key":          0o600,
		"units":             0o700,
		"units/HB":          0o700,
		"units/HB/seal.key": 0o600,
		"officers":          0o700,
		"officers/12.key":   0o600,
		"root.pem":          0o644,
		"units/HB/seal.pem": 0o644,
		"officers/12.pem":   0o644,
	}
	for name, mode := range want {
		st, err := os.Stat(filepath.Join(p.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != mode {
			t.Errorf("%s: mode %#o, want %#o", name, got, mode)
		}
	}
	// No temporary files are left behind, and keys are PKCS#8.
	err := filepath.WalkDir(p.Dir, func(path string, d fs.DirEntry, err error) error {
		if strings.Contains(d.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", path)
		}
		if strings.HasSuffix(path, ".key") {
			data, _ := os.ReadFile(path)
			if !bytes.HasPrefix(data, []byte("-----BEGIN PRIVATE KEY-----\n")) {
				t.Errorf("%s is not a PKCS#8 PEM key", path)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestIssuanceIsIdempotent(t *testing.T) {
	p := openTestPKI(t, Options{})
	o := testOfficer(5, "Trần Văn Nghĩa", "")
	sk1, pem1, err := p.IssueOfficer(o, unitPL)
	if err != nil {
		t.Fatal(err)
	}
	sk2, pem2, err := p.IssueOfficer(o, unitPL)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pem1, pem2) || !bytes.Equal(sk1.Chain[0].Raw, sk2.Chain[0].Raw) {
		t.Error("second IssueOfficer issued a new certificate")
	}
	seal1, err := p.IssueSeal(unitPL)
	if err != nil {
		t.Fatal(err)
	}

	// A fresh process over the same directory sees the same root, seal and officer.
	p2, err := Open(p.Dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p2.RootPEM(), p.RootPEM()) {
		t.Error("reopening created a new root")
	}
	seal2, err := p2.IssueSeal(unitPL)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(seal1.Chain[0].Raw, seal2.Chain[0].Raw) {
		t.Error("reopened PKI issued a new seal")
	}
	_, pem3, err := p2.IssueOfficer(o, unitPL)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pem1, pem3) {
		t.Error("reopened PKI issued a new officer certificate")
	}
	sk4, err := p2.OfficerKey(context.Background(), &chungthuc.Officer{ID: 5, CertPEM: pem1})
	if err != nil {
		t.Fatal(err)
	}
	if !sk4.Signer.Public().(*ecdsa.PublicKey).Equal(sk1.Signer.Public()) {
		t.Error("OfficerKey returned another key")
	}
}

func TestCrashBetweenKeyAndCertificate(t *testing.T) {
	p := openTestPKI(t, Options{})
	sk, _, err := p.IssueOfficer(testOfficer(8, "Lê Thị Ĩ", ""), unitPL)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := p.OfficerFiles(8)
	keyBefore, _ := os.ReadFile(keyPath)
	if err := os.Remove(certPath); err != nil { // as if the process died before writing it
		t.Fatal(err)
	}
	p2, err := Open(p.Dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sk2, _, err := p2.IssueOfficer(testOfficer(8, "Lê Thị Ĩ", ""), unitPL)
	if err != nil {
		t.Fatal(err)
	}
	keyAfter, _ := os.ReadFile(keyPath)
	if !bytes.Equal(keyBefore, keyAfter) {
		t.Error("the existing key was replaced")
	}
	if !sk2.Signer.Public().(*ecdsa.PublicKey).Equal(sk.Signer.Public()) {
		t.Error("the new certificate is not for the existing key")
	}
}

func TestCertificateWithoutKeyRefused(t *testing.T) {
	p := openTestPKI(t, Options{})
	if _, err := p.IssueSeal(unitPL); err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := p.SealFiles("HB")
	os.Remove(keyPath)
	p2, err := Open(p.Dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p2.IssueSeal(unitPL)
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	if !strings.Contains(err.Error(), certPath) {
		t.Errorf("error %q does not name %s", err, certPath)
	}
	if _, err := os.Stat(keyPath); err == nil {
		t.Error("a key was created for a certificate that lost its own")
	}
	_, err = p2.SealKey(context.Background(), unitPL)
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
}

func TestWriteExclusiveNeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.key")
	if err := writeExclusive(path, []byte("first"), keyMode); err != nil {
		t.Fatal(err)
	}
	err := writeExclusive(path, []byte("second"), keyMode)
	if !os.IsExist(err) {
		t.Fatalf("second write: %v, want fs.ErrExist", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "first" {
		t.Errorf("file holds %q", data)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1", len(entries))
	}
}

func TestKeyStore(t *testing.T) {
	ctx := context.Background()
	p := openTestPKI(t, Options{})
	_, err := p.SealKey(ctx, unitPL)
	pkicheck.WantErrorCode(t, err, chungthuc.ENOTFOUND)
	_, err = p.OfficerKey(ctx, testOfficer(3, "A", ""))
	pkicheck.WantErrorCode(t, err, chungthuc.ENOTFOUND)
	_, err = p.OfficerKey(ctx, testOfficer(0, "A", ""))
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	_, err = p.OfficerKey(ctx, nil)
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	_, err = p.SealKey(ctx, nil)
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)

	seal, err := p.IssueSeal(unitPL)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.SealKey(ctx, unitPL)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Chain[0].Raw, seal.Chain[0].Raw) {
		t.Error("SealKey returned another certificate")
	}
	// The caller may change its copy of the chain without harming the cache.
	got.Chain[0] = nil
	if again, _ := p.SealKey(ctx, unitPL); again.Chain[0] == nil {
		t.Error("the cache shares its chain slice with callers")
	}

	_, pem3, err := p.IssueOfficer(testOfficer(3, "Trần Văn Nghĩa", ""), unitPL)
	if err != nil {
		t.Fatal(err)
	}
	_, pem4, err := p.IssueOfficer(testOfficer(4, "Lê Thị Ĩ", ""), unitPL)
	if err != nil {
		t.Fatal(err)
	}
	// The register's certificate must be the key store's.
	o3 := testOfficer(3, "Trần Văn Nghĩa", "")
	o3.CertPEM = pem4
	_, err = p.OfficerKey(ctx, o3)
	pkicheck.WantErrorCode(t, err, chungthuc.ECONFLICT)
	o3.CertPEM = append([]byte("# comment\n"), pem3...)
	if _, err := p.OfficerKey(ctx, o3); err != nil {
		t.Errorf("same certificate with other bytes around it: %v", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.OfficerKey(cctx, o3); err != context.Canceled {
		t.Errorf("cancelled context: %v", err)
	}
	if _, err := p.SealKey(cctx, unitPL); err != context.Canceled {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestKeyStoreConcurrent(t *testing.T) {
	ctx := context.Background()
	p := openTestPKI(t, Options{})
	if _, err := p.IssueSeal(unitPL); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	serials := make([]sync.Map, 4) // officer → serials seen
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				id := int64(1 + (g+i)%4)
				o := testOfficer(id, fmt.Sprintf("Nguyễn Văn Ĩ %d", id), "")
				sk, _, err := p.IssueOfficer(o, unitPL)
				if err != nil {
					errs <- err
					return
				}
				serials[id-1].Store(sk.Chain[0].SerialNumber.String(), true)
				if _, err := p.OfficerKey(ctx, o); err != nil {
					errs <- err
					return
				}
				u := unitPL
				if i%2 == 1 {
					u = unitHB
				}
				if _, err := p.IssueSeal(u); err != nil {
					errs <- err
					return
				}
				if _, err := p.SealKey(ctx, u); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range serials {
		n := 0
		serials[i].Range(func(_, _ any) bool { n++; return true })
		if n != 1 {
			t.Errorf("officer %d got %d different certificates", i+1, n)
		}
	}
}

func TestTamperedKeyRefused(t *testing.T) {
	ctx := context.Background()
	p := openTestPKI(t, Options{})
	if _, _, err := p.IssueOfficer(testOfficer(1, "Trần Văn Nghĩa", ""), unitPL); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.IssueOfficer(testOfficer(2, "Lê Thị Ĩ", ""), unitPL); err != nil {
		t.Fatal(err)
	}
	_, key1 := p.OfficerFiles(1)
	_, key2 := p.OfficerFiles(2)
	other, _ := os.ReadFile(key2)
	pkicheck.WriteFile(t, key1, other) // officer 1's key file now holds officer 2's key

	p2, err := Open(p.Dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p2.OfficerKey(ctx, testOfficer(1, "", ""))
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	if !strings.Contains(err.Error(), "Trần Văn Nghĩa") || strings.Contains(err.Error(), "PRIVATE") {
		t.Errorf("error %q should name the certificate and nothing of the key", err)
	}

	// A key other users can read is refused.
	if err := os.Chmod(key2, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = p2.OfficerKey(ctx, testOfficer(2, "", ""))
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	if !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("error %q should say how to fix it", err)
	}
}

func TestForeignCertificateRefused(t *testing.T) {
	// A seal issued by another development root is not accepted.
	a := openTestPKI(t, Options{})
	b := openTestPKI(t, Options{})
	if _, err := b.IssueSeal(unitPL); err != nil {
		t.Fatal(err)
	}
	if err := mkdirPrivate(filepath.Join(a.Dir, "units", "HB")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"seal.pem", "seal.key"} {
		data, _ := os.ReadFile(filepath.Join(b.Dir, "units", "HB", f))
		pkicheck.WriteFile(t, filepath.Join(a.Dir, "units", "HB", f), data)
	}
	_, err := a.SealKey(context.Background(), unitPL)
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
}

func TestRSA3072(t *testing.T) {
	p := openTestPKI(t, Options{Algorithm: AlgRSA3072})
	sk, _, err := p.IssueOfficer(testOfficer(1, "Trần Văn Nghĩa", ""), unitPL)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*x509.Certificate{p.Root(), sk.Chain[0]} {
		pub, ok := c.PublicKey.(*rsa.PublicKey)
		if !ok || pub.N.BitLen() != 3072 {
			t.Fatalf("%s: key %T, want RSA-3072", c.Subject, c.PublicKey)
		}
		if c.SignatureAlgorithm != x509.SHA256WithRSA {
			t.Errorf("%s: signature algorithm %v", c.Subject, c.SignatureAlgorithm)
		}
	}
	if err := certs.CheckKeyMatchesCert(sk.Signer, sk.Chain[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := p.OfficerKey(context.Background(), testOfficer(1, "", "")); err != nil {
		t.Fatal(err)
	}
	if openssl, err := exec.LookPath("openssl"); err == nil {
		root := filepath.Join(p.Dir, "root.pem")
		leaf, _ := p.OfficerFiles(1)
		pkicheck.RunTool(t, openssl, "verify", "-CAfile", root, "-purpose", "smimesign", leaf)
	}
}

func TestOpenSSLAcceptsChain(t *testing.T) {
	openssl := pkicheck.NeedTool(t, "openssl")
	p := openTestPKI(t, Options{Now: time.Now})
	if _, _, err := p.IssueOfficer(testOfficer(9, "Lê Thị Ĩ (Bé) \\ ĩ", "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"), unitPL); err != nil {
		t.Fatal(err)
	}
	if _, err := p.IssueSeal(unitPL); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(p.Dir, "root.pem")
	leaf, _ := p.OfficerFiles(9)
	seal, _ := p.SealFiles("HB")
	for _, f := range []string{leaf, seal} {
		out := pkicheck.RunTool(t, openssl, "verify", "-CAfile", root, f)
		if !strings.Contains(out, ": OK") {
			t.Errorf("openssl verify %s: %s", f, out)
		}
		pkicheck.RunTool(t, openssl, "verify", "-CAfile", root, "-purpose", "smimesign", f)
	}
	// openssl decodes the subject to the same UTF-8 text.
	out := pkicheck.RunTool(t, openssl, "x509", "-in", leaf, "-noout", "-subject", "-nameopt", "utf8,sep_multiline,sname")
	for _, want := range []string{"CN=Lê Thị Ĩ (Bé) \\ ĩ", "title=KT. CHỦ TỊCH / PHÓ CHỦ TỊCH", "O=Phường Hòa Bình", "C=VN"} {
		if !strings.Contains(out, want) {
			t.Errorf("openssl subject lacks %q:\n%s", want, out)
		}
	}
	text := pkicheck.RunTool(t, openssl, "x509", "-in", leaf, "-noout", "-text")
	for _, any := range [][]string{
		{"Digital Signature, Non Repudiation"},
		{"E-mail Protection"},
		{"1.3.6.1.5.5.7.3.36", "Document Signing"},
		{"1.3.6.1.4.1.311.10.3.12", "Microsoft"},
	} {
		if !slices.ContainsFunc(any, func(s string) bool { return strings.Contains(text, s) }) {
			t.Errorf("openssl -text lacks %q", any[0])
		}
	}
}

func TestNSSAcceptsSigner(t *testing.T) {
	certutil := pkicheck.NeedTool(t, "certutil")
	p := openTestPKI(t, Options{Now: time.Now})
	if _, _, err := p.IssueOfficer(testOfficer(9, "Trần Văn Nghĩa", ""), unitPL); err != nil {
		t.Fatal(err)
	}
	db := "sql:" + t.TempDir()
	leaf, _ := p.OfficerFiles(9)
	pkicheck.RunTool(t, certutil, "-N", "-d", db, "--empty-password")
	pkicheck.RunTool(t, certutil, "-A", "-d", db, "-n", "root", "-t", "C,C,C", "-i", filepath.Join(p.Dir, "root.pem"))
	pkicheck.RunTool(t, certutil, "-A", "-d", db, "-n", "officer", "-t", ",,", "-i", leaf)
	// S = email signer, the usage poppler's pdfsig checks.
	out := pkicheck.RunTool(t, certutil, "-V", "-d", db, "-n", "officer", "-u", "S")
	if !strings.Contains(out, "certificate is valid") {
		t.Errorf("certutil -V: %s", out)
	}
}
