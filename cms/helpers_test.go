package cms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testPKI is a root → intermediate → leaf chain and the leaf key.
type testPKI struct {
	root, inter, leaf *x509.Certificate
	key, interKey     crypto.Signer
}

func (p *testPKI) chain() []*x509.Certificate { return []*x509.Certificate{p.leaf, p.inter} }

func (p *testPKI) opts(h crypto.Hash) SignOptions {
	return SignOptions{Signer: p.key, Chain: p.chain(), Hash: h}
}

var (
	pkiMu    sync.Mutex
	pkiCache = map[string]*testPKI{}
)

func newKey(t testing.TB, kind string) crypto.Signer {
	t.Helper()
	var k crypto.Signer
	var err error
	switch kind {
	case "rsa1024":
		k, err = rsa.GenerateKey(rand.Reader, 1024)
	case "rsa2048":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "rsa3072":
		k, err = rsa.GenerateKey(rand.Reader, 3072)
	case "p256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "p521":
		k, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	default:
		t.Fatalf("unknown key kind %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// getPKI returns a chain whose leaf key is of the given kind (cached per test binary:
// RSA-3072 generation is slow under -race). The CAs use P-256.
func getPKI(t testing.TB, kind string) *testPKI {
	t.Helper()
	pkiMu.Lock()
	defer pkiMu.Unlock()
	if p, ok := pkiCache[kind]; ok {
		return p
	}
	p := makePKI(t, newKey(t, kind), "Nguyễn Văn Ĩnh (test)")
	pkiCache[kind] = p
	return p
}

var serial atomic.Int64

func makePKI(t testing.TB, leafKey crypto.Signer, cn string) *testPKI {
	t.Helper()
	rootKey := newKey(t, "p256")
	interKey := newKey(t, "p256")
	now := time.Now()
	ca := func(name string) *x509.Certificate {
		return &x509.Certificate{
			SerialNumber:          big.NewInt(serial.Add(1)),
			Subject:               pkix.Name{CommonName: name, Organization: []string{"chungthuc test"}},
			NotBefore:             now.Add(-time.Hour),
			NotAfter:              now.Add(24 * time.Hour),
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		}
	}
	root := mustCert(t, ca("Test Root"), nil, rootKey.Public(), rootKey)
	inter := mustCert(t, ca("Test Intermediate"), root, interKey.Public(), rootKey)
	leafTmpl := &x509.Certificate{
		SerialNumber: new(big.Int).Lsh(big.NewInt(serial.Add(1)), 100), // a long serial
		Subject:      pkix.Name{CommonName: cn, Country: []string{"VN"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		SubjectKeyId: []byte(fmt.Sprintf("ski-%d", serial.Add(1))),
	}
	leaf := mustCert(t, leafTmpl, inter, leafKey.Public(), interKey)
	return &testPKI{root: root, inter: inter, leaf: leaf, key: leafKey, interKey: interKey}
}

func mustCert(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// countingSigner counts Sign calls.
type countingSigner struct {
	crypto.Signer
	calls atomic.Int64
}

func (c *countingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	c.calls.Add(1)
	return c.Signer.Sign(r, d, o)
}

func digestOf(h crypto.Hash, data []byte) []byte {
	if h == 0 {
		h = crypto.SHA256
	}
	x := h.New()
	x.Write(data)
	return x.Sum(nil)
}
