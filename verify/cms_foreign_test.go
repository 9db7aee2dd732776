package verify

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"

	"github.com/chungthuc/chungthuc/certs/devpki"
	"github.com/chungthuc/chungthuc/cms"
	"github.com/chungthuc/chungthuc/cms/tsp"
	"github.com/chungthuc/chungthuc/internal/bertest"
)

// This file puts CMS signatures that other producers write — BER, no signed attributes,
// repeated attributes, algorithms we do not sign with, time-stamps we cannot validate —
// into PDFs and checks the indication the engine reports for each.

// ossl runs the openssl command line in a scratch directory holding the test PKI.
type ossl struct {
	t   *testing.T
	bin string
	dir string
}

func newOSSL(t *testing.T) *ossl {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed: apt-get install -y openssl to run this independent check")
	}
	o := &ossl{t: t, bin: bin, dir: t.TempDir()}
	p := getPKI()
	o.key("root.key", p.root.key)
	o.file("root.pem", pemCert(p.root.cert))
	o.key("officer.key", p.officer.key)
	o.file("officer.pem", pemCert(p.officer.cert))
	return o
}

func (o *ossl) in(t *testing.T) *ossl   { return &ossl{t: t, bin: o.bin, dir: o.dir} }
func (o *ossl) path(name string) string { return filepath.Join(o.dir, name) }
func (o *ossl) read(name string) []byte { b, _ := os.ReadFile(o.path(name)); return b }
func (o *ossl) key(name string, k crypto.Signer) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		o.t.Fatal(err)
	}
	o.file(name, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func (o *ossl) file(name string, b []byte) string {
	o.t.Helper()
	if err := os.WriteFile(o.path(name), b, 0o600); err != nil {
		o.t.Fatal(err)
	}
	return o.path(name)
}

func (o *ossl) run(args ...string) string {
	o.t.Helper()
	out, err := exec.Command(o.bin, args...).CombinedOutput()
	if err != nil {
		o.t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// leaf makes a key with the given openssl -newkey arguments and a document-signing
// certificate for it issued by the trusted test root; it returns the key and certificate
// paths.
func (o *ossl) leaf(name string, newkey ...string) (key, cert string) {
	key, cert = o.path(name+".key"), o.path(name+".pem")
	o.file(name+".ext", []byte("keyUsage = critical, digitalSignature, nonRepudiation\nextendedKeyUsage = emailProtection\n"))
	o.run(append(append([]string{"req", "-new"}, newkey...), "-nodes", "-keyout", key, "-out", o.path(name+".csr"), "-subj", "/C=VN/CN="+name)...)
	o.run("x509", "-req", "-in", o.path(name+".csr"), "-CA", o.path("root.pem"), "-CAkey", o.path("root.key"),
		"-set_serial", "77", "-days", "30", "-extfile", o.path(name+".ext"), "-out", cert)
	return key, cert
}

// signWith returns signOpts whose CMS is replaced by make(content), content being the
// bytes the signature must cover.
func signWith(o signOpts, make func(content []byte) []byte) signOpts {
	var captured []byte
	prev := o.content
	o.content = func(c []byte) []byte {
		if prev != nil {
			c = prev(c)
		}
		captured = bytes.Clone(c)
		return c
	}
	o.cms = func([]byte) []byte { return make(captured) }
	return o
}

// opensslSign signs content (or, with sha1, its SHA-1 digest, encapsulated) with
// `openssl cms -sign` and the given key and certificate; flags are added.
func (o *ossl) sign(key, cert string, content []byte, flags ...string) []byte {
	o.t.Helper()
	o.file("content.bin", content)
	o.run(append([]string{"cms", "-sign", "-binary", "-outform", "DER", "-in", o.path("content.bin"), "-signer", cert,
		"-inkey", key, "-certfile", o.path("root.pem"), "-out", o.path("sig.der")}, flags...)...)
	return o.read("sig.der")
}

func hasCheck(s SignatureReport, name, status, detail string) bool {
	for _, c := range s.Checks {
		if c.Name == name && c.Status == status && strings.Contains(c.Detail, detail) {
			return true
		}
	}
	return false
}

// TestForeignCMS judges signatures from other producers, one per PDF.
func TestForeignCMS(t *testing.T) {
	o := newOSSL(t)
	p := getPKI()
	base := basePDF(1, 0, false).classic()
	officerKey, officerCert := o.path("officer.key"), o.path("officer.pem")
	bpKey, bpCert := o.leaf("brainpool", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:brainpoolP256r1")
	o.run("genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:2048", "-out", o.path("dsa.params"))
	dsaKey, dsaCert := o.leaf("dsa", "-newkey", "dsa:"+o.path("dsa.params"))
	sha1Of := func(c []byte) []byte { s := sha1.Sum(c); return s[:] }
	alter := func(c []byte) []byte { c = bytes.Clone(c); c[len(c)/2] ^= 1; return c }
	keepSignedAttrs := func(path []byte) bool { return bytes.Equal(path, bertest.SignerInfoSignedAttrs) }

	cases := []struct {
		name      string
		o         signOpts
		ind, sub  string
		integrity string
		warning   string // a "cms" warning check that must be present
	}{
		// BER, as BouncyCastle writes it (signed attributes kept DER), and everywhere.
		{"BER, signed attributes DER", signOpts{cms: func(d []byte) []byte { return bertest.Encode(d, bertest.Options{KeepDER: keepSignedAttrs}) }},
			TotalPassed, "", "intact", "BER-encoded"},
		{"BER everywhere", signOpts{cms: func(d []byte) []byte { return bertest.Encode(d, bertest.Options{Chunk: 100, LongLengths: true}) }},
			TotalPassed, "", "intact", "BER-encoded"},
		// A real BER producer: openssl's streaming mode encapsulates the content, which
		// adbe.pkcs7.sha1 wants (the SHA-1 of the byte ranges). SHA-1 is refused by policy,
		// as INDETERMINATE: the signature itself is intact.
		{"openssl -stream, adbe.pkcs7.sha1", signWith(signOpts{subFilter: "adbe.pkcs7.sha1"}, func(c []byte) []byte {
			return o.sign(officerKey, officerCert, sha1Of(c), "-stream", "-nodetach", "-md", "sha256")
		}), Indeterminate, SubCryptoConstraints, "intact", "BER-encoded"},
		{"openssl -stream, adbe.pkcs7.sha1, other bytes", signWith(signOpts{subFilter: "adbe.pkcs7.sha1"}, func(c []byte) []byte {
			return o.sign(officerKey, officerCert, sha1Of(alter(c)), "-stream", "-nodetach", "-md", "sha256")
		}), TotalFailed, SubHashFailure, "broken", ""},
		// No signed attributes (openssl cms -noattr): the signature is over the digest.
		{"adbe.pkcs7.detached without signed attributes", signWith(signOpts{subFilter: "adbe.pkcs7.detached"}, func(c []byte) []byte {
			return o.sign(officerKey, officerCert, c, "-noattr", "-md", "sha256")
		}), TotalPassed, "", "intact", "no signed attributes"},
		{"adbe.pkcs7.detached without signed attributes, other bytes", signWith(signOpts{subFilter: "adbe.pkcs7.detached"}, func(c []byte) []byte {
			return o.sign(officerKey, officerCert, alter(c), "-noattr", "-md", "sha256")
		}), TotalFailed, SubSigCryptoFailure, "broken", ""},
		{"adbe.pkcs7.sha1 without signed attributes", signWith(signOpts{subFilter: "adbe.pkcs7.sha1"}, func(c []byte) []byte {
			return o.sign(officerKey, officerCert, sha1Of(c), "-noattr", "-nodetach", "-md", "sha256")
		}), Indeterminate, SubCryptoConstraints, "intact", "no signed attributes"},
		{"ETSI.CAdES.detached without signed attributes", signWith(signOpts{}, func(c []byte) []byte {
			return o.sign(officerKey, officerCert, c, "-noattr", "-md", "sha256")
		}), TotalFailed, SubFormatFailure, "unchecked", ""},
		// Algorithms.
		{"SHA3-256", signWith(signOpts{subFilter: "adbe.pkcs7.detached"}, func(c []byte) []byte {
			return o.sign(officerKey, officerCert, c, "-md", "sha3-256")
		}), TotalPassed, "", "intact", ""},
		{"brainpoolP256r1 signer", signWith(signOpts{subFilter: "adbe.pkcs7.detached"}, func(c []byte) []byte {
			return o.sign(bpKey, bpCert, c, "-md", "sha256")
		}), Indeterminate, SubCryptoConstraints, "unchecked", ""},
		{"DSA signer", signWith(signOpts{subFilter: "adbe.pkcs7.detached"}, func(c []byte) []byte {
			return o.sign(dsaKey, dsaCert, c, "-md", "sha256")
		}), Indeterminate, SubCryptoConstraints, "unchecked", ""},
		{"RSASSA-PSS with MGF1-SHA512 over SHA-256", signWith(signOpts{subFilter: "adbe.pkcs7.detached"}, func(c []byte) []byte {
			return o.sign(officerKey, officerCert, c, "-md", "sha256", "-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_mgf1_md:sha512")
		}), Indeterminate, SubCryptoConstraints, "unchecked", ""},
		// Repeated signed attributes.
		{"signing-certificate-v2 twice", signWith(signOpts{}, func(c []byte) []byte {
			ess := essV2(p.officer.cert)
			return pkcs7Detached(t, p.officer, c, ess, ess)
		}), TotalPassed, "", "intact", "appears more than once"},
		{"message-digest twice", signWith(signOpts{}, func(c []byte) []byte {
			md, _ := asn1.Marshal(hashBytes(crypto.SHA256, c))
			return pkcs7Detached(t, p.officer, c, essV2(p.officer.cert), pkcs7.Attribute{Type: cms.OIDAttrMessageDigest, Value: asn1.RawValue{FullBytes: md}})
		}), TotalFailed, SubFormatFailure, "unchecked", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o.t = t
			rep := mustVerify(t, signPDF(t, base, c.o), testOptions())
			s := rep.Signatures[0]
			if s.Indication != c.ind || s.SubIndication != c.sub || s.Integrity != c.integrity || rep.Valid != (c.ind == TotalPassed) {
				t.Fatalf("want %s/%s integrity %s:\n%s", c.ind, c.sub, c.integrity, dump(t, rep))
			}
			if c.warning != "" && !hasCheck(s, "cms", CheckWarning, c.warning) {
				t.Fatalf("no warning %q:\n%s", c.warning, dump(t, rep))
			}
		})
	}
}

// TestBERCountersignature: a certified copy countersigned by a producer that writes BER
// keeps all three signatures valid.
func TestBERCountersignature(t *testing.T) {
	p := getPKI()
	copy := certifiedCopy(t, basePDF(2, 2000, false).classic())
	keep := func(path []byte) bool { return bytes.Equal(path, bertest.SignerInfoSignedAttrs) }
	out := signPDF(t, copy, signOpts{key: p.officer, field: "Bank", cms: func(d []byte) []byte {
		return bertest.Encode(d, bertest.Options{KeepDER: keep, Chunk: 64})
	}})
	rep := mustVerify(t, out, testOptions())
	if !rep.Valid || len(rep.Signatures) != 3 {
		t.Fatalf("not valid:\n%s", dump(t, rep))
	}
	for _, s := range rep.Signatures {
		if s.Indication != TotalPassed {
			t.Fatalf("signature %d is %s/%s:\n%s", s.Index, s.Indication, s.SubIndication, dump(t, rep))
		}
	}
}

// essV2 is a signing-certificate-v2 attribute naming cert (SHA-256, no issuerSerial).
func essV2(cert *x509.Certificate) pkcs7.Attribute {
	h := sha256.Sum256(cert.Raw)
	v, _ := asn1.Marshal(struct{ Certs []struct{ Hash []byte } }{Certs: []struct{ Hash []byte }{{h[:]}}})
	return pkcs7.Attribute{Type: oidSigningCertV2, Value: asn1.RawValue{FullBytes: v}}
}

// pkcs7Detached signs content (detached, SHA-256) with digitorus/pkcs7, which adds
// content-type, message-digest and signing-time, plus the given signed attributes as
// written (repeats included).
func pkcs7Detached(t *testing.T, k testKey, content []byte, extra ...pkcs7.Attribute) []byte {
	t.Helper()
	sd, err := pkcs7.NewSignedData(content)
	if err != nil {
		t.Fatal(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSignerChain(k.cert, k.key, []*x509.Certificate{getPKI().root.cert}, pkcs7.SignerInfoConfig{ExtraSignedAttributes: extra}); err != nil {
		t.Fatal(err)
	}
	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestSignatureTimestampCannotBeValidated: a signature time-stamp the verifier cannot
// validate — no TSA certificate, SHA-1 — leaves an intact signature INDETERMINATE (ETSI
// EN 319 102-1), never TOTAL_FAILED; a token over another value stays a failure.
func TestSignatureTimestampCannotBeValidated(t *testing.T) {
	o := newOSSL(t)
	p := getPKI()
	base := basePDF(1, 0, false).classic()
	// openssl signs only with a certificate whose timeStamping usage is critical.
	tsaCert, err := devpki.IssueTSACert(p.root.cert, p.root.key, p.tsa.key.Public(), pkix.Name{CommonName: "openssl TSA"}, testNow.AddDate(-1, 0, 0), testNow.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	o.key("tsa.key", p.tsa.key)
	o.file("tsa.pem", pemCert(tsaCert))
	o.file("serial", []byte("01\n"))
	o.file("ts.cnf", []byte(strings.Join([]string{"[ tsa ]", "default_tsa = t", "[ t ]", "serial = " + o.path("serial"),
		"signer_cert = " + o.path("tsa.pem"), "signer_key = " + o.path("tsa.key"), "signer_digest = sha256",
		"default_policy = 1.2.3.4.1", "digests = sha1, sha256", "ess_cert_id_alg = sha256", ""}, "\n")))
	ours := func(h crypto.Hash, withCerts bool) func([]byte) []byte {
		return func(v []byte) []byte {
			info := &tsp.Info{Policy: asn1.ObjectIdentifier{1, 2, 3}, Hash: h, Digest: hashBytes(h, v), Serial: big.NewInt(3), GenTime: testNow.Add(time.Minute)}
			tok, err := tsp.Sign(info, cms.SignOptions{Signer: p.tsa.key, Chain: []*x509.Certificate{p.tsa.cert}}, withCerts)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
	}
	sha1Signed := func(v []byte) []byte {
		ts := timestamp.Timestamp{HashAlgorithm: crypto.SHA256, HashedMessage: hashBytes(crypto.SHA256, v), Time: testNow.Add(time.Minute),
			Policy: asn1.ObjectIdentifier{1, 2, 3}, SerialNumber: big.NewInt(4), AddTSACertificate: true}
		resp, err := ts.CreateResponseWithOpts(p.tsa.cert, p.tsa.key, crypto.SHA1)
		if err != nil {
			t.Fatal(err)
		}
		r, err := tsp.ParseResponse(resp)
		if err != nil {
			t.Fatal(err)
		}
		return r.Token
	}
	opensslNoCert := func(v []byte) []byte {
		o.file("value", v)
		o.run("ts", "-query", "-data", o.path("value"), "-sha256", "-out", o.path("q.tsq")) // no -cert
		o.run("ts", "-reply", "-config", o.path("ts.cnf"), "-queryfile", o.path("q.tsq"), "-out", o.path("r.tsr"))
		r, err := tsp.ParseResponse(o.read("r.tsr"))
		if err != nil {
			t.Fatal(err)
		}
		return r.Token
	}
	other := func(stamp func([]byte) []byte) func([]byte) []byte {
		return func(v []byte) []byte { return stamp(append(bytes.Clone(v), 0)) }
	}
	cases := []struct {
		name     string
		stamp    func(sigValue []byte) []byte
		ind, sub string
		problem  string
	}{
		{"ours, trusted", ours(crypto.SHA256, true), TotalPassed, "", ""},
		{"no TSA certificate", ours(crypto.SHA256, false), Indeterminate, SubNoSigningCertificate, "signer_not_found"},
		{"no TSA certificate, openssl", opensslNoCert, Indeterminate, SubNoSigningCertificate, "signer_not_found"},
		{"SHA-1 imprint", ours(crypto.SHA1, true), Indeterminate, SubCryptoConstraints, "SHA-1"},
		{"signed with SHA-1", sha1Signed, Indeterminate, SubCryptoConstraints, "weak_algorithm"},
		{"no TSA certificate, over another value", other(ours(crypto.SHA256, false)), TotalFailed, SubFormatFailure, "not over this signature's value"},
		{"SHA-1 imprint, over another value", other(ours(crypto.SHA1, true)), TotalFailed, SubFormatFailure, "not over this signature's value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o.t = t
			hook := func(der []byte) []byte {
				v, err := cms.SignatureValue(der)
				if err != nil {
					t.Fatal(err)
				}
				out, err := cms.AddUnsignedAttribute(der, cms.OIDAttrTimeStampToken, c.stamp(v))
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			rep := mustVerify(t, signPDF(t, base, signOpts{cms: hook}), testOptions())
			s := rep.Signatures[0]
			if s.Indication != c.ind || s.SubIndication != c.sub || s.Integrity != "intact" || s.Timestamp == nil || !strings.Contains(s.Timestamp.Problem, c.problem) {
				t.Fatalf("want %s/%s (%q):\n%s", c.ind, c.sub, c.problem, dump(t, rep))
			}
			if c.ind == TotalPassed != (rep.Valid && s.Timestamp.Valid && s.Timestamp.Trusted) {
				t.Fatalf("valid %v:\n%s", rep.Valid, dump(t, rep))
			}
		})
	}
}

// TestDocumentTimestampWithoutCertificate: a document time-stamp whose token lacks the
// TSA certificate is INDETERMINATE, not FAILED. (What its unverified field does to the
// earlier signature is the modification analysis' business, not asserted here.)
func TestDocumentTimestampWithoutCertificate(t *testing.T) {
	p := getPKI()
	signed := signPDF(t, basePDF(1, 0, false).classic(), signOpts{})
	out := signPDF(t, signed, signWith(signOpts{docTS: true}, func(c []byte) []byte {
		info := &tsp.Info{Policy: asn1.ObjectIdentifier{1, 2, 3}, Hash: crypto.SHA256, Digest: hashBytes(crypto.SHA256, c), Serial: big.NewInt(5), GenTime: testNow.Add(time.Hour)}
		tok, err := tsp.Sign(info, cms.SignOptions{Signer: p.tsa.key, Chain: []*x509.Certificate{p.tsa.cert}}, false)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}))
	rep := mustVerify(t, out, testOptions())
	d := rep.Signatures[1]
	if d.Kind != "document_timestamp" || d.Indication != Indeterminate || d.SubIndication != SubNoSigningCertificate {
		t.Fatalf("document time-stamp without certificate:\n%s", dump(t, rep))
	}
}
