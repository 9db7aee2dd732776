package tsp_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc/certs/devpki"
	"github.com/chungthuc/chungthuc/cms"
	"github.com/chungthuc/chungthuc/cms/tsp"
	"github.com/chungthuc/chungthuc/internal/bertest"
)

var policy = asn1.ObjectIdentifier{1, 2, 3, 4, 1}

type world struct {
	root      *x509.Certificate
	rootKey   crypto.Signer
	tsa       *x509.Certificate // critical timeStamping EKU
	tsaKey    crypto.Signer
	notTSA    *x509.Certificate // same key, no timeStamping EKU
	rsaTSA    *x509.Certificate
	rsaTSAKey crypto.Signer
}

func newWorld(t testing.TB) *world {
	t.Helper()
	w := &world{}
	w.rootKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Gốc thử nghiệm", Country: []string{"VN"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, w.rootKey.Public(), w.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	w.root, _ = x509.ParseCertificate(der)
	w.tsaKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if w.tsa, err = devpki.IssueTSACert(w.root, w.rootKey, w.tsaKey.Public(), pkix.Name{CommonName: "TSA thử nghiệm"}, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	w.rsaTSAKey, _ = rsa.GenerateKey(rand.Reader, 2048)
	if w.rsaTSA, err = devpki.IssueTSACert(w.root, w.rootKey, w.rsaTSAKey.Public(), pkix.Name{CommonName: "RSA TSA"}, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "not a TSA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	der, err = x509.CreateCertificate(rand.Reader, leaf, w.root, w.tsaKey.Public(), w.rootKey)
	if err != nil {
		t.Fatal(err)
	}
	w.notTSA, _ = x509.ParseCertificate(der)
	return w
}

func (w *world) info(h crypto.Hash, data []byte) *tsp.Info {
	d := h.New()
	d.Write(data)
	return &tsp.Info{Policy: policy, Hash: h, Digest: d.Sum(nil), Serial: big.NewInt(42),
		GenTime: time.Date(2026, 3, 10, 9, 0, 0, 250_000_000, time.UTC), Accuracy: 1500 * time.Millisecond,
		Ordering: true, Nonce: big.NewInt(7), TSAName: tsp.DirectoryName(w.tsa.RawSubject)}
}

func TestSignParseToken(t *testing.T) {
	w := newWorld(t)
	data := []byte("chữ ký cần đóng dấu thời gian")
	for _, c := range []struct {
		name string
		cert *x509.Certificate
		key  crypto.Signer
		h    crypto.Hash
	}{{"p256", w.tsa, w.tsaKey, crypto.SHA256}, {"rsa", w.rsaTSA, w.rsaTSAKey, crypto.SHA512}} {
		t.Run(c.name, func(t *testing.T) {
			info := w.info(c.h, data)
			tok, err := tsp.Sign(info, cms.SignOptions{Signer: c.key, Chain: []*x509.Certificate{c.cert, w.root}}, true)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tsp.ParseToken(tok)
			if err != nil {
				t.Fatal(err)
			}
			gi := got.Info
			if !gi.Policy.Equal(policy) || gi.Hash != c.h || !bytes.Equal(gi.Digest, info.Digest) || gi.Serial.Int64() != 42 ||
				!gi.GenTime.Equal(info.GenTime) || gi.Accuracy != info.Accuracy || !gi.Ordering || gi.Nonce.Int64() != 7 ||
				!bytes.Equal(gi.TSAName, info.TSAName) || gi.HasExtensions {
				t.Fatalf("info changed: %+v", gi)
			}
			if !got.Certificate.Equal(c.cert) || len(got.Certificates) != 2 || got.SignedData.Version != 3 {
				t.Fatalf("certificate %v, %d certificates, version %d", got.Certificate.Subject, len(got.Certificates), got.SignedData.Version)
			}
			if !got.Covers(data) || got.Covers(append(data, 0)) {
				t.Fatal("Covers is wrong")
			}
			// The same token in BER parses the same.
			ber := bertest.Encode(tok, bertest.Options{Chunk: 16})
			if again, err := tsp.ParseToken(ber); err != nil || !again.SignedData.BER || !again.Covers(data) {
				t.Fatalf("BER token: %v", err)
			}
		})
	}
}

func TestParseTokenFailures(t *testing.T) {
	w := newWorld(t)
	data := []byte("x")
	opt := cms.SignOptions{Signer: w.tsaKey, Chain: []*x509.Certificate{w.tsa}}
	sign := func(info *tsp.Info, opt cms.SignOptions, certs bool) []byte {
		t.Helper()
		tok, err := tsp.Sign(info, opt, certs)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := sign(w.info(crypto.SHA256, data), opt, true)
	tampered := bytes.Replace(good, []byte("20260310090000.25Z"), []byte("20260310090001.25Z"), 1)
	if bytes.Equal(tampered, good) {
		t.Fatal("genTime not found")
	}
	sha1Info := w.info(crypto.SHA256, data)
	s1 := sha1.Sum(data)
	sha1Info.Hash, sha1Info.Digest = crypto.SHA1, s1[:]
	unknown := w.info(crypto.SHA256, data)
	unknown.Hash, unknown.HashOID = 0, asn1.ObjectIdentifier{1, 2, 3, 99}
	cases := []struct {
		name     string
		token    []byte
		want     error
		readable bool // Info is returned
	}{
		{"no certificates", sign(w.info(crypto.SHA256, data), opt, false), cms.ErrSignerNotFound, true},
		{"no timeStamping usage", sign(w.info(crypto.SHA256, data), cms.SignOptions{Signer: w.tsaKey, Chain: []*x509.Certificate{w.notTSA}}, true), cms.ErrSigningCertificate, true},
		{"SHA-1 imprint", sign(sha1Info, opt, true), cms.ErrWeakAlgorithm, true},
		{"unknown imprint hash", sign(unknown, opt, true), cms.ErrUnsupportedAlg, true},
		{"TSTInfo changed", tampered, cms.ErrDigestMismatch, true},
		{"not a token", mustSignDetached(t, w), cms.ErrMalformed, false},
		{"garbage", []byte{0x30, 0x03, 0x02, 0x01, 0x01}, cms.ErrMalformed, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok, err := tsp.ParseToken(c.token)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if tok == nil || (tok.Info != nil) != c.readable {
				t.Fatalf("partial token: %+v", tok)
			}
			if c.readable && c.name != "TSTInfo changed" && c.name != "unknown imprint hash" && !tok.Covers(data) {
				t.Fatal("the imprint of an unverifiable token cannot be compared")
			}
		})
	}
}

func mustSignDetached(t *testing.T, w *world) []byte {
	d := sha256.Sum256([]byte("x"))
	der, err := cms.SignDetached(d[:], cms.SignOptions{Signer: w.tsaKey, Chain: []*x509.Certificate{w.tsa}})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestInfoMarshalRefusals(t *testing.T) {
	w := newWorld(t)
	for name, mod := range map[string]func(*tsp.Info){
		"no policy":       func(i *tsp.Info) { i.Policy = nil },
		"digest length":   func(i *tsp.Info) { i.Digest = i.Digest[1:] },
		"no serial":       func(i *tsp.Info) { i.Serial = nil },
		"negative serial": func(i *tsp.Info) { i.Serial = big.NewInt(-1) },
		"no time":         func(i *tsp.Info) { i.GenTime = time.Time{} },
		"bad TSA name":    func(i *tsp.Info) { i.TSAName = []byte{0x30} },
		"unknown hash":    func(i *tsp.Info) { i.Hash = crypto.BLAKE2b_256 },
	} {
		info := w.info(crypto.SHA256, []byte("x"))
		mod(info)
		if _, err := info.Marshal(); !errors.Is(err, cms.ErrInvalidOptions) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestRequest(t *testing.T) {
	d := sha256.Sum256([]byte("x"))
	r := &tsp.Request{Hash: crypto.SHA256, Digest: d[:], Policy: policy, Nonce: big.NewInt(1 << 62), CertReq: true}
	der, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := tsp.ParseRequest(der)
	if err != nil || got.Hash != crypto.SHA256 || !bytes.Equal(got.Digest, d[:]) || !got.Policy.Equal(policy) ||
		got.Nonce.Cmp(r.Nonce) != 0 || !got.CertReq || got.HasExtensions {
		t.Fatalf("round trip: %v %+v", err, got)
	}
	if _, err := (&tsp.Request{Hash: crypto.SHA256, Digest: d[:5]}).Marshal(); !errors.Is(err, cms.ErrInvalidOptions) {
		t.Fatalf("short digest: %v", err)
	}
	// A request for an unknown hash parses (the TSA answers badAlg), with Hash 0.
	unknown := []byte{0x30, 0x13, 0x02, 0x01, 0x01, 0x30, 0x0e, 0x30, 0x05, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x04, 0x05, 1, 2, 3, 4, 5}
	if got, err := tsp.ParseRequest(unknown); err != nil || got.Hash != 0 || !got.HashOID.Equal(asn1.ObjectIdentifier{1, 2, 3, 4}) {
		t.Fatalf("unknown hash: %v %+v", err, got)
	}
	for name, in := range map[string][]byte{
		"trailing byte": append(bytes.Clone(der), 0),
		"version 2":     bytes.Replace(der, []byte{0x02, 0x01, 0x01}, []byte{0x02, 0x01, 0x02}, 1),
		"empty":         nil,
		"BER":           bertest.Encode(der, bertest.Options{}),
	} {
		if _, err := tsp.ParseRequest(in); !errors.Is(err, cms.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := tsp.ParseRequest(make([]byte, tsp.MaxRequest+1)); !errors.Is(err, cms.ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
}

func TestResponse(t *testing.T) {
	w := newWorld(t)
	tok, err := tsp.Sign(w.info(crypto.SHA256, []byte("x")), cms.SignOptions{Signer: w.tsaKey, Chain: []*x509.Certificate{w.tsa}}, true)
	if err != nil {
		t.Fatal(err)
	}
	granted, err := (&tsp.Response{Status: tsp.Granted, Token: tok}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	r, err := tsp.ParseResponse(granted)
	if err != nil || r.Err() != nil || !bytes.Equal(r.Token, tok) {
		t.Fatalf("granted: %v %v", err, r)
	}
	// A BER answer (indefinite lengths everywhere) gives the token back with DER lengths.
	r, err = tsp.ParseResponse(bertest.Encode(granted, bertest.Options{}))
	if err != nil || !bytes.Equal(r.Token, tok) {
		t.Fatalf("BER answer: %v", err)
	}
	rej := &tsp.Response{Status: tsp.Rejection, StatusString: []string{"thử lại sau"}, Failure: tsp.FailUnacceptedExtension | tsp.FailSystemFailure}
	der, err := rej.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	r, err = tsp.ParseResponse(der)
	if err != nil || r.Status != tsp.Rejection || r.Failure != rej.Failure || len(r.StatusString) != 1 || r.StatusString[0] != "thử lại sau" {
		t.Fatalf("rejection round trip: %v %+v", err, r)
	}
	if e := r.Err(); e == nil || !strings.Contains(e.Error(), "extension") || !strings.Contains(e.Error(), "system failure") {
		t.Fatalf("Err: %v", e)
	}
	if _, err := (&tsp.Response{Status: tsp.Granted}).Marshal(); !errors.Is(err, cms.ErrInvalidOptions) {
		t.Fatalf("granted without token: %v", err)
	}
	if _, err := (&tsp.Response{Status: tsp.Rejection, Token: tok}).Marshal(); !errors.Is(err, cms.ErrInvalidOptions) {
		t.Fatalf("rejection with token: %v", err)
	}
	noToken := []byte{0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00}
	if _, err := tsp.ParseResponse(noToken); !errors.Is(err, cms.ErrMalformed) {
		t.Fatalf("granted without token parsed: %v", err)
	}
	// openssl reads our rejection the same way.
	o := newOpenSSL(t)
	out := o.run("ts", "-reply", "-in", o.file("rej.tsr", der), "-text")
	for _, want := range []string{"Status: Rejected", "the requested extension is not supported by the TSA", "the request cannot be handled due to system failure", `Status description: th\U1EED l\U1EA1i sau`} {
		if !strings.Contains(out, want) {
			t.Errorf("openssl -text lacks %q:\n%s", want, out)
		}
	}
}

// TestOpenSSL: openssl verifies our tokens, and we verify openssl's (a foreign TSA),
// including the cases a verifier must tell apart: no TSA certificate, SHA-1.
func TestOpenSSL(t *testing.T) {
	w := newWorld(t)
	o := newOpenSSL(t)
	data := o.file("data", []byte("%PDF-1.7 chứng thực"))
	rootPEM := o.file("root.pem", pemOf(w.root.Raw))
	d := sha256.Sum256([]byte("%PDF-1.7 chứng thực"))

	// Ours, checked by openssl.
	info := w.info(crypto.SHA256, []byte("%PDF-1.7 chứng thực"))
	tok, err := tsp.Sign(info, cms.SignOptions{Signer: w.tsaKey, Chain: []*x509.Certificate{w.tsa}}, true)
	if err != nil {
		t.Fatal(err)
	}
	out := o.run("ts", "-verify", "-data", data, "-in", o.file("ours.tst", tok), "-token_in", "-CAfile", rootPEM)
	if !strings.Contains(out, "Verification: OK") {
		t.Fatalf("openssl: %s", out)
	}
	text := o.run("ts", "-reply", "-in", o.path("ours.tst"), "-token_in", "-text")
	for _, want := range []string{"Accuracy: 0x01 seconds, 0x01F4 millis", "Ordering: yes", "Nonce: 0x07", "TSA: DirName:", "Time stamp: Mar 10 09:00:00.25 2026 GMT"} {
		if !strings.Contains(text, want) {
			t.Errorf("openssl -text lacks %q:\n%s", want, text)
		}
	}

	// Theirs.
	keyDER, _ := x509.MarshalPKCS8PrivateKey(w.tsaKey)
	o.file("tsa.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	o.file("tsa.pem", pemOf(w.tsa.Raw))
	o.file("serial", []byte("0A\n"))
	conf := func(digest string) string {
		return o.file("ts-"+digest+".cnf", []byte(strings.Join([]string{
			"[ tsa ]", "default_tsa = t", "[ t ]", "serial = " + o.path("serial"), "signer_cert = " + o.path("tsa.pem"),
			"signer_key = " + o.path("tsa.key"), "signer_digest = " + digest, "default_policy = 1.2.3.4.1",
			"digests = sha1, sha256", "accuracy = secs:2", "ordering = no", "tsa_name = yes", "ess_cert_id_alg = sha256", ""}, "\n")))
	}
	cases := []struct {
		name       string
		query      []string
		digest     string
		want       error
		imprint    crypto.Hash
		hasCertReq bool
	}{
		{"sha256 with certificate", []string{"-sha256", "-cert"}, "sha256", nil, crypto.SHA256, true},
		{"no certificate requested", []string{"-sha256"}, "sha256", cms.ErrSignerNotFound, crypto.SHA256, false},
		{"token signed with SHA-1", []string{"-sha256", "-cert"}, "sha1", cms.ErrWeakAlgorithm, crypto.SHA256, true},
		{"SHA-1 imprint", []string{"-sha1", "-cert"}, "sha256", cms.ErrWeakAlgorithm, crypto.SHA1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := o.in(t)
			o.run(append([]string{"ts", "-query", "-data", data, "-out", o.path("q.tsq")}, c.query...)...)
			req, err := tsp.ParseRequest(o.read("q.tsq"))
			if err != nil || req.CertReq != c.hasCertReq || req.Nonce == nil || req.Hash != c.imprint {
				t.Fatalf("openssl's query: %v %+v", err, req)
			}
			o.run("ts", "-reply", "-config", conf(c.digest), "-queryfile", o.path("q.tsq"), "-out", o.path("r.tsr"))
			resp, err := tsp.ParseResponse(o.read("r.tsr"))
			if err != nil || resp.Err() != nil {
				t.Fatalf("openssl's answer: %v %v", err, resp.Err())
			}
			tok, err := tsp.ParseToken(resp.Token)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if tok.Info == nil || tok.Info.Nonce.Cmp(req.Nonce) != 0 || tok.Info.Accuracy != 2*time.Second || tok.Info.TSAName == nil {
				t.Fatalf("info: %+v", tok.Info)
			}
			if c.imprint == crypto.SHA256 && !tok.Covers([]byte("%PDF-1.7 chứng thực")) || c.imprint == crypto.SHA256 && !bytes.Equal(tok.Info.Digest, d[:]) {
				t.Fatal("imprint")
			}
		})
	}
}

func pemOf(der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}) }

type openssl struct {
	t   *testing.T
	bin string
	dir string
}

func newOpenSSL(t *testing.T) *openssl {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed: apt-get install -y openssl to run this independent check")
	}
	return &openssl{t: t, bin: bin, dir: t.TempDir()}
}

func (o *openssl) in(t *testing.T) *openssl { return &openssl{t: t, bin: o.bin, dir: o.dir} }
func (o *openssl) path(name string) string  { return filepath.Join(o.dir, name) }
func (o *openssl) read(name string) []byte  { b, _ := os.ReadFile(o.path(name)); return b }
func (o *openssl) file(name string, b []byte) string {
	o.t.Helper()
	if err := os.WriteFile(o.path(name), b, 0o600); err != nil {
		o.t.Fatal(err)
	}
	return o.path(name)
}

func (o *openssl) run(args ...string) string {
	o.t.Helper()
	out, err := exec.Command(o.bin, args...).CombinedOutput()
	if err != nil {
		o.t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// FuzzParse feeds arbitrary bytes to the parsers of this package: no panic, typed errors.
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 30s ./cms/tsp
func FuzzParse(f *testing.F) {
	w := newWorld(f)
	tok, _ := tsp.Sign(w.info(crypto.SHA256, []byte("x")), cms.SignOptions{Signer: w.tsaKey, Chain: []*x509.Certificate{w.tsa}}, true)
	resp, _ := (&tsp.Response{Status: tsp.Granted, Token: tok}).Marshal()
	d := sha256.Sum256([]byte("x"))
	req, _ := (&tsp.Request{Hash: crypto.SHA256, Digest: d[:], Nonce: big.NewInt(5), CertReq: true}).Marshal()
	info, _ := w.info(crypto.SHA256, []byte("x")).Marshal()
	for _, s := range [][]byte{tok, resp, req, info, bertest.Encode(resp, bertest.Options{})} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		typed := func(err error) {
			var e *cms.Error
			if err != nil && !errors.As(err, &e) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		}
		_, err := tsp.ParseToken(in)
		typed(err)
		_, err = tsp.ParseInfo(in)
		typed(err)
		_, err = tsp.ParseRequest(in)
		typed(err)
		r, err := tsp.ParseResponse(in)
		typed(err)
		if err == nil {
			_ = r.Err()
		}
	})
}
