package signer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs/devpki"
	"github.com/chungthuc/chungthuc/internal/cpubench"
	"github.com/chungthuc/chungthuc/internal/testscan"
	"github.com/chungthuc/chungthuc/verify"
)

// opensslKey is a key that lives only in a file openssl reads: the test process never
// loads it, as the service never sees a key on a token or at a remote-signing provider.
type opensslKey struct {
	t    *testing.T
	path string
}

func newOpensslKey(t *testing.T, dir, name string, alg ...string) *opensslKey {
	t.Helper()
	k := &opensslKey{t: t, path: filepath.Join(dir, name+".key")}
	k.run(append([]string{"genpkey", "-out", k.path}, alg...)...)
	return k
}

func (k *opensslKey) run(args ...string) []byte {
	k.t.Helper()
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		k.t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// csr makes a PKCS#10 request on the key (openssl req -new), claiming a subject that the
// CA must not copy.
func (k *opensslKey) csr() []byte {
	k.t.Helper()
	out := k.path + ".csr"
	k.run("req", "-new", "-key", k.path, "-subj", "/CN=Claimed by the requester", "-out", out)
	data, err := os.ReadFile(out)
	if err != nil {
		k.t.Fatal(err)
	}
	return data
}

// sign signs a SHA-256 digest outside the process: openssl pkeyutl -sign with
// digest:sha256 makes a PKCS#1 v1.5 signature over the DigestInfo for RSA and a DER
// ECDSA signature for EC keys.
func (k *opensslKey) sign(digest []byte) []byte {
	k.t.Helper()
	in, out := k.path+".digest", k.path+".sig"
	if err := os.WriteFile(in, digest, 0o600); err != nil {
		k.t.Fatal(err)
	}
	k.run("pkeyutl", "-sign", "-inkey", k.path, "-in", in, "-out", out, "-pkeyopt", "digest:sha256")
	sig, err := os.ReadFile(out)
	if err != nil {
		k.t.Fatal(err)
	}
	return sig
}

// externalSetup is a development PKI with an officer and a seal whose keys openssl holds,
// certified from their CSRs, and a B-LTA signer that checks revocation with the PKI.
type externalSetup struct {
	pki                 *devpki.PKI
	officerKey, sealKey *opensslKey
	officer, seal       []*x509.Certificate
	signer              *Signer
	allocations         int
}

func newExternalSetup(t *testing.T) *externalSetup {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	pki, err := devpki.Open(filepath.Join(dir, "pki"), devpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	unit := &chungthuc.Unit{ID: 1, Code: "HB", Name: "Phường Hòa Bình", Place: "Hòa Bình"}
	e := &externalSetup{pki: pki,
		officerKey: newOpensslKey(t, dir, "officer", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"),
		sealKey:    newOpensslKey(t, dir, "seal", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"),
	}
	if e.officer, _, err = pki.IssueOfficerFromCSR(&chungthuc.Officer{ID: 1, UnitID: 1, Name: "Lê Thị Ĩ", Title: "PHÓ CHỦ TỊCH"}, unit, e.officerKey.csr()); err != nil {
		t.Fatal(err)
	}
	if e.seal, _, err = pki.IssueSealFromCSR(unit, e.sealKey.csr()); err != nil {
		t.Fatal(err)
	}
	tsa, _, err := pki.TSA(nil)
	if err != nil {
		t.Fatal(err)
	}
	e.signer, err = New(Options{Level: chungthuc.PAdESLTA, Timestamper: tsa, Revocation: pki, CheckCertificate: pki.CheckNotRevoked})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *externalSetup) request() chungthuc.CopyRequest {
	return chungthuc.CopyRequest{
		Scans: []chungthuc.Scan{{Name: "trang1.jpg", Data: smallScans[0]}}, Place: "Hòa Bình", UnitName: "Phường Hòa Bình",
		OfficerName: "Lê Thị Ĩ", OfficerTitle: "PHÓ CHỦ TỊCH", DocTitle: "Giấy khai sinh",
		Officer: &chungthuc.SigningKey{Chain: e.officer},
		Allocate: func(ctx context.Context, pages int) (*chungthuc.Allocation, error) {
			e.allocations++
			return &chungthuc.Allocation{Number: int64(40 + e.allocations), BookCode: "01/2026-SCTĐT/BS",
				CertifiedAt: time.Now().Truncate(time.Second), VerifyURL: "https://chungthuc.example.vn/v/3q2-x8WkR0bPn9ZfKx1mTgH7cYpQ"}, nil
		},
	}
}

// roundTrip stores and loads a pending state as the API layer will (JSON).
func roundTrip[T any](t *testing.T, v *T) *T {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out := new(T)
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExternalSigning is issue 14's flow in the engine: officer and seal keys made by
// openssl, certificates from their CSRs, each digest signed outside the process with
// openssl pkeyutl, the pending states stored as JSON between the steps; the B-LTA copy
// verifies with our verifier (both signatures TOTAL_PASSED) and with pdfsig (both valid
// and trusted).
func TestExternalSigning(t *testing.T) {
	e := newExternalSetup(t)
	ctx := context.Background()
	p, err := e.signer.PrepareCopy(ctx, e.request())
	if err != nil {
		t.Fatal(err)
	}
	if p.Step != StepOfficer || p.Algorithm != AlgorithmSHA256 || len(p.Digest) != 32 {
		t.Fatalf("pending: step %q, algorithm %q, digest %d bytes", p.Step, p.Algorithm, len(p.Digest))
	}
	if d := sha256.Sum256(p.SignedAttrs); !bytes.Equal(d[:], p.Digest) {
		t.Fatal("the digest is not the SHA-256 of the signed attributes")
	}
	p = roundTrip(t, p)
	signed, res, err := e.signer.Complete(ctx, p, e.officerKey.sign(p.Digest), e.officer)
	if err != nil || res != nil {
		t.Fatalf("officer step: %v (copy %v)", err, res != nil)
	}
	if p.PDF != nil {
		t.Fatal("the completed state was not marked spent")
	}
	if _, _, err := e.signer.Complete(ctx, p, e.officerKey.sign(p.Digest), e.officer); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("completing a spent state: %v", err)
	}
	signed = roundTrip(t, signed)
	officerSigned := bytes.Clone(signed.PDF)
	q, err := e.signer.PrepareSeal(ctx, signed, e.seal, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if q.Step != StepSeal || !bytes.HasPrefix(q.PDF, officerSigned) {
		t.Fatal("the seal is not an incremental update of the officer-signed file")
	}
	if _, err := e.signer.PrepareSeal(ctx, signed, e.seal, time.Now()); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("preparing the seal twice on one state: %v", err)
	}
	q = roundTrip(t, q)
	prepared := bytes.Clone(q.PDF[:q.ContentsOffset])
	// Without a chain the registered one is used.
	_, res, err = e.signer.Complete(ctx, q, e.sealKey.sign(q.Digest), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(res.PDF); hex.EncodeToString(sum[:]) != res.SHA256 {
		t.Fatal("SHA256 is not the file's hash")
	}
	if res.Pages != 2 || res.OriginalPages != 1 {
		t.Fatalf("pages %d/%d", res.Pages, res.OriginalPages)
	}
	if !bytes.HasPrefix(res.PDF, prepared) {
		t.Fatal("the copy does not continue the prepared seal revision")
	}
	checkExternalCopy(t, e, res.PDF)
}

func checkExternalCopy(t *testing.T, e *externalSetup, pdf []byte) {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(e.pki.Root())
	rep, err := verify.VerifyBytes(context.Background(), pdf, verify.Options{Roots: roots, Revocation: e.pki})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Valid || len(rep.Signatures) != 3 {
		t.Fatalf("verify: valid=%v, %d signatures: %s / %s", rep.Valid, len(rep.Signatures), rep.SummaryEN, summaries(rep))
	}
	for i, want := range []string{"certification", "approval", "document_timestamp"} {
		s := rep.Signatures[i]
		if s.Kind != want || s.Indication != verify.TotalPassed || !s.Trusted {
			t.Fatalf("signature %d: %s %s %s trusted=%v: %s", i+1, s.Kind, s.Indication, s.SubIndication, s.Trusted, s.SummaryEN)
		}
	}
	if !strings.Contains(rep.Signatures[0].Signer.Subject, "Lê Thị Ĩ") || !strings.Contains(rep.Signatures[1].Signer.Subject, "Phường Hòa Bình") {
		t.Fatalf("signers %q, %q", rep.Signatures[0].Signer.Subject, rep.Signatures[1].Signer.Subject)
	}
	if rep.Signatures[0].Timestamp == nil || rep.Signatures[1].Timestamp == nil {
		t.Fatal("a signature has no signature time-stamp (B-T)")
	}
	if _, err := exec.LookPath("pdfsig"); err != nil {
		t.Log("pdfsig not installed: independent check skipped")
		return
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "copy.pdf")
	os.WriteFile(file, pdf, 0o644)
	out, _ := exec.Command("pdfsig", "-nssdir", "sql:"+NSSDB(t, dir, e.pki.RootPEM()), file).CombinedOutput()
	s := string(out)
	if strings.Count(s, "Signature is Valid.") != 2 || strings.Count(s, "Certificate is Trusted.") != 2 ||
		!strings.Contains(s, "Signer Certificate Common Name: Lê Thị Ĩ") {
		t.Fatalf("pdfsig:\n%s", s)
	}
}

// TestExternalRefusals: a completion by the wrong key, over the wrong digest, with a
// certificate that is not the registered one, by an expired or a revoked certificate is
// refused and produces nothing; the pending state is untouched and the right signature
// still completes it.
func TestExternalRefusals(t *testing.T) {
	e := newExternalSetup(t)
	ctx := context.Background()
	p, err := e.signer.PrepareCopy(ctx, e.request())
	if err != nil {
		t.Fatal(err)
	}
	before := roundTrip(t, p)
	dir := t.TempDir()
	intruder := newOpensslKey(t, dir, "intruder", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
	intruderChain, _, err := e.pki.IssueOfficerFromCSR(&chungthuc.Officer{ID: 2, UnitID: 1, Name: "Lê Thị Ĩ"}, &chungthuc.Unit{ID: 1, Code: "HB", Name: "Phường Hòa Bình"}, intruder.csr())
	if err != nil {
		t.Fatal(err)
	}
	otherDigest := sha256.Sum256([]byte("another document"))
	late, err := New(Options{Now: func() time.Time { return e.officer[0].NotAfter.Add(time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		signer *Signer
		sig    []byte
		chain  []*x509.Certificate
		code   string
	}{
		{"wrong key", e.signer, intruder.sign(p.Digest), e.officer, chungthuc.EINVALID},
		{"wrong digest", e.signer, e.officerKey.sign(otherDigest[:]), e.officer, chungthuc.EINVALID},
		{"content digest instead of attributes", e.signer, e.officerKey.sign(p.ContentDigest), e.officer, chungthuc.EINVALID},
		{"not a signature", e.signer, []byte("chữ ký"), e.officer, chungthuc.EINVALID},
		{"certificate not the registered one", e.signer, intruder.sign(p.Digest), intruderChain, chungthuc.EFORBIDDEN},
		{"seal certificate for the officer", e.signer, e.sealKey.sign(p.Digest), e.seal, chungthuc.EFORBIDDEN},
		{"expired", late, e.officerKey.sign(p.Digest), e.officer, chungthuc.EFORBIDDEN},
	} {
		t.Run(c.name, func(t *testing.T) {
			signed, res, err := c.signer.Complete(ctx, p, c.sig, c.chain)
			if chungthuc.ErrorCode(err) != c.code || signed != nil || res != nil {
				t.Fatalf("got %v (code %s), want %s and nothing produced", err, chungthuc.ErrorCode(err), c.code)
			}
			if got := roundTrip(t, p); !bytes.Equal(got.PDF, before.PDF) || !bytes.Equal(got.Digest, before.Digest) {
				t.Fatal("the refused completion changed the pending state")
			}
		})
	}
	// A damaged pending state is refused, not trusted.
	bad := roundTrip(t, p)
	bad.ContentDigest[0] ^= 1
	if _, _, err := e.signer.Complete(ctx, bad, e.officerKey.sign(bad.Digest), e.officer); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("damaged pending: %v", err)
	}
	bad = roundTrip(t, p)
	bad.ContentsOffset += 3
	if _, _, err := e.signer.Complete(ctx, bad, e.officerKey.sign(bad.Digest), e.officer); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("moved placeholder: %v", err)
	}
	// The right signature still completes the untouched pending state.
	signed, _, err := e.signer.Complete(ctx, p, e.officerKey.sign(p.Digest), e.officer)
	if err != nil {
		t.Fatal(err)
	}
	// The seal step refuses the officer's key and certificate the same way.
	q, err := e.signer.PrepareSeal(ctx, signed, e.seal, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, res, err := e.signer.Complete(ctx, q, e.officerKey.sign(q.Digest), e.seal); chungthuc.ErrorCode(err) != chungthuc.EINVALID || res != nil {
		t.Fatalf("seal signed by the officer's key: %v", err)
	}
	if _, _, err := e.signer.Complete(ctx, q, e.officerKey.sign(q.Digest), e.officer); chungthuc.ErrorCode(err) != chungthuc.EFORBIDDEN {
		t.Fatalf("seal step with the officer's certificate: %v", err)
	}
	if _, err := e.signer.PrepareSeal(ctx, &Signed{PDF: []byte("%PDF-1.7\nnot ours")}, e.seal, time.Now()); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("seal on a foreign file: %v", err)
	}

	// Revocation between preparation and completion: refused.
	p2, err := e.signer.PrepareCopy(ctx, e.request())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.pki.Revoke(e.officer[0].SerialNumber, 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	if signed, _, err := e.signer.Complete(ctx, p2, e.officerKey.sign(p2.Digest), e.officer); chungthuc.ErrorCode(err) != chungthuc.EFORBIDDEN || signed != nil {
		t.Fatalf("revoked certificate: %v", err)
	}
	// A revoked certificate cannot even start a copy: no number is allocated.
	n := e.allocations
	if _, err := e.signer.PrepareCopy(ctx, e.request()); chungthuc.ErrorCode(err) != chungthuc.EFORBIDDEN || e.allocations != n {
		t.Fatalf("prepare with a revoked certificate: %v (allocations %d → %d)", err, n, e.allocations)
	}
}

// BenchmarkExternal compares, in one run, the one-step path (MakeCopy with the keys held
// here) with the two-step path (PrepareCopy, Complete, PrepareSeal, Complete, with the
// same keys called as in-process signing functions standing in for the external device)
// on a 1 MB, 3-page scan at PAdES B-B, so the difference is the two-step path's own cost.
func BenchmarkExternal(b *testing.B) {
	f := newFixture("Trần Văn Nghĩa")
	scans := testscan.Scans(3, 1<<20, 200)
	s, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	device := func(k *countingSigner, digest []byte) []byte {
		sig, err := k.Sign(rand.Reader, digest, crypto.SHA256)
		if err != nil {
			b.Fatal(err)
		}
		return sig
	}
	b.Run("one-step", func(b *testing.B) {
		req := f.request(scans, "Trần Văn Nghĩa")
		defer cpubench.PerOp(b)()
		for i := 0; i < b.N; i++ {
			if _, err := s.MakeCopy(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("two-step", func(b *testing.B) {
		req := f.request(scans, "Trần Văn Nghĩa")
		req.Officer = &chungthuc.SigningKey{Chain: f.officer.Chain}
		defer cpubench.PerOp(b)()
		for i := 0; i < b.N; i++ {
			p, err := s.PrepareCopy(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			signed, _, err := s.Complete(ctx, p, device(f.ocount, p.Digest), f.officer.Chain)
			if err != nil {
				b.Fatal(err)
			}
			q, err := s.PrepareSeal(ctx, signed, f.seal.Chain, time.Date(2026, 11, 29, 9, 30, 0, 0, chungthuc.Vietnam))
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := s.Complete(ctx, q, device(f.scount, q.Digest), f.seal.Chain); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// tokenKey is a key on a SoftHSM2 token, used only through the pkcs11-tool program (as an
// office PC's signing agent would use the officer's USB token): the test process never
// opens the token itself.
type tokenKey struct {
	t                         *testing.T
	module, token, pin, label string
	id                        string // CKA_ID: pkcs11-tool signs by id (by label it fails with ECDSA)
	dir                       string
	pub                       crypto.PublicKey
}

func (k *tokenKey) tool(args ...string) []byte {
	k.t.Helper()
	base := []string{"--module", k.module, "--token-label", k.token}
	out, err := exec.Command("pkcs11-tool", append(base, args...)...).CombinedOutput()
	if err != nil {
		k.t.Fatalf("pkcs11-tool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (k *tokenKey) Public() crypto.PublicKey { return k.pub }

// raw signs a SHA-256 digest on the token: CKM_ECDSA (raw r||s) or CKM_RSA_PKCS over the
// DigestInfo.
func (k *tokenKey) raw(digest []byte) []byte {
	k.t.Helper()
	in, out := filepath.Join(k.dir, k.label+".in"), filepath.Join(k.dir, k.label+".sig")
	mech := "ECDSA"
	if _, ok := k.pub.(*rsa.PublicKey); ok {
		mech = "RSA-PKCS"
		prefix, _ := hex.DecodeString("3031300d060960864801650304020105000420")
		digest = append(prefix, digest...)
	}
	os.WriteFile(in, digest, 0o600)
	k.tool("--login", "--pin", k.pin, "--sign", "--mechanism", mech, "--id", k.id, "-i", in, "-o", out)
	sig, err := os.ReadFile(out)
	if err != nil {
		k.t.Fatal(err)
	}
	return sig
}

// Sign is crypto.Signer over raw, with ECDSA in DER (for the CSR made on the token).
func (k *tokenKey) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	sig := k.raw(digest)
	if _, ok := k.pub.(*ecdsa.PublicKey); ok {
		n := len(sig) / 2
		return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])})
	}
	return sig, nil
}

// TestExternalSoftHSM: the officer's EC key and the seal's RSA-3072 key are on a SoftHSM2
// token; their CSRs are signed on the token, the dev PKI certifies them, and each digest is
// signed by pkcs11-tool (ECDSA comes back as raw r||s). The B-LTA copy verifies with our
// verifier and pdfsig.
func TestExternalSoftHSM(t *testing.T) {
	dir := t.TempDir()
	out, err := exec.Command("../scripts/softhsm.sh", dir).CombinedOutput()
	if err != nil {
		t.Skipf("SoftHSM2 not available (%v)\n%s", err, out)
	}
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`export (\w+)='([^']*)'`).FindAllStringSubmatch(string(out), -1) {
		env[m[1]] = m[2]
	}
	t.Setenv("SOFTHSM2_CONF", env["SOFTHSM2_CONF"])
	key := func(label, id string) *tokenKey {
		k := &tokenKey{t: t, module: env["PKCS11_MODULE"], token: env["PKCS11_TOKEN_LABEL"], pin: env["PKCS11_PIN"], label: label, id: id, dir: dir}
		der := filepath.Join(dir, label+".pub")
		k.tool("--read-object", "--type", "pubkey", "--label", label, "-o", der)
		raw, _ := os.ReadFile(der)
		if k.pub, err = x509.ParsePKIXPublicKey(raw); err != nil {
			t.Fatal(err)
		}
		return k
	}
	officerKey, sealKey := key(env["PKCS11_EC_KEY_LABEL"], "01"), key(env["PKCS11_RSA_KEY_LABEL"], "02") // ids of scripts/softhsm.sh
	csr := func(k *tokenKey) []byte {
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "token"}}, k)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	pki, err := devpki.Open(filepath.Join(dir, "pki"), devpki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	unit := &chungthuc.Unit{ID: 1, Code: "HB", Name: "Phường Hòa Bình", Place: "Hòa Bình"}
	e := &externalSetup{pki: pki}
	if e.officer, _, err = pki.IssueOfficerFromCSR(&chungthuc.Officer{ID: 1, UnitID: 1, Name: "Lê Thị Ĩ", Title: "PHÓ CHỦ TỊCH"}, unit, csr(officerKey)); err != nil {
		t.Fatal(err)
	}
	if e.seal, _, err = pki.IssueSealFromCSR(unit, csr(sealKey)); err != nil {
		t.Fatal(err)
	}
	tsa, _, err := pki.TSA(nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.signer, err = New(Options{Level: chungthuc.PAdESLTA, Timestamper: tsa, Revocation: pki, CheckCertificate: pki.CheckNotRevoked}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := e.signer.PrepareCopy(ctx, e.request())
	if err != nil {
		t.Fatal(err)
	}
	sig := officerKey.raw(p.Digest)
	if len(sig) != 64 {
		t.Fatalf("the token's ECDSA signature has %d bytes, want raw r||s (64)", len(sig))
	}
	signed, _, err := e.signer.Complete(ctx, roundTrip(t, p), sig, e.officer)
	if err != nil {
		t.Fatal(err)
	}
	q, err := e.signer.PrepareSeal(ctx, roundTrip(t, signed), e.seal, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// The officer's token cannot apply the seal.
	if _, _, err := e.signer.Complete(ctx, q, officerKey.raw(q.Digest), e.seal); chungthuc.ErrorCode(err) != chungthuc.EINVALID {
		t.Fatalf("seal by the officer's token key: %v", err)
	}
	_, res, err := e.signer.Complete(ctx, q, sealKey.raw(q.Digest), e.seal)
	if err != nil {
		t.Fatal(err)
	}
	checkExternalCopy(t, e, res.PDF)
}
