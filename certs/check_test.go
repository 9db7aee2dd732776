package certs

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs/devpki"
	"github.com/chungthuc/chungthuc/internal/testpki/pkicheck"
)

// lyingSigner reports one public key and signs with another, like a token slot mix-up.
type lyingSigner struct {
	public crypto.PublicKey
	signer crypto.Signer
}

func (l lyingSigner) Public() crypto.PublicKey { return l.public }
func (l lyingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	return l.signer.Sign(r, d, o)
}

// brokenSigner cannot sign, like an unplugged token.
type brokenSigner struct{ public crypto.PublicKey }

func (b brokenSigner) Public() crypto.PublicKey { return b.public }
func (b brokenSigner) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("CKR_DEVICE_REMOVED")
}

func TestCheckKeyMatchesCert(t *testing.T) {
	p := openTestPKI(t, devpki.Options{})
	sk, _, err := p.IssueOfficer(testOfficer(1, "Trần Văn Nghĩa", ""), unitPL)
	if err != nil {
		t.Fatal(err)
	}
	cert := sk.Chain[0]
	if err := CheckKeyMatchesCert(sk.Signer, cert); err != nil {
		t.Fatalf("matching pair refused: %v", err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	err = CheckKeyMatchesCert(other, cert)
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	if !strings.Contains(err.Error(), "Trần Văn Nghĩa") {
		t.Errorf("error %q does not name the certificate subject", err)
	}
	raw, berr := other.Bytes()
	if berr != nil {
		t.Fatal(berr)
	}
	if strings.Contains(err.Error(), new(big.Int).SetBytes(raw).String()) || strings.Contains(err.Error(), fmt.Sprintf("%x", raw)) ||
		strings.Contains(strings.ToLower(err.Error()), "private key:") {
		t.Errorf("error %q leaks key material", err)
	}

	err = CheckKeyMatchesCert(lyingSigner{public: sk.Signer.Public(), signer: other}, cert)
	pkicheck.WantErrorCode(t, err, chungthuc.EINVALID)
	if !strings.Contains(err.Error(), "wrong key") {
		t.Errorf("error %q should say the key is wrong", err)
	}

	err = CheckKeyMatchesCert(brokenSigner{public: sk.Signer.Public()}, cert)
	pkicheck.WantErrorCode(t, err, chungthuc.EUNAVAILABLE)
	if !strings.Contains(err.Error(), "CKR_DEVICE_REMOVED") {
		t.Errorf("error %q should keep the token's reason for the log", err)
	}

	pkicheck.WantErrorCode(t, CheckKeyMatchesCert(nil, cert), chungthuc.EINVALID)
	pkicheck.WantErrorCode(t, CheckKeyMatchesCert(sk.Signer, nil), chungthuc.EINVALID)
}

func TestCheckKeyMatchesCertEd25519(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Lê Thị Ĩ"},
		NotBefore: pkiTestNow, NotAfter: pkiTestNow.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	if err := CheckKeyMatchesCert(priv, cert); err != nil {
		t.Fatal(err)
	}
	_, priv2, _ := ed25519.GenerateKey(rand.Reader)
	pkicheck.WantErrorCode(t, CheckKeyMatchesCert(priv2, cert), chungthuc.EINVALID)
}

func TestKeysAreOpaque(t *testing.T) {
	ctx := context.Background()
	for _, alg := range []string{devpki.AlgECDSAP256, devpki.AlgRSA3072} {
		p := openTestPKI(t, devpki.Options{Algorithm: alg})
		if _, err := p.IssueSeal(unitPL); err != nil {
			t.Fatal(err)
		}
		certPath, keyPath := p.SealFiles("HB")
		fromStore, err := p.SealKey(ctx, unitPL)
		if err != nil {
			t.Fatal(err)
		}
		fromFile, err := LoadPEM(certPath, keyPath)
		if err != nil {
			t.Fatal(err)
		}
		for _, sk := range []*chungthuc.SigningKey{fromStore, fromFile} {
			switch sk.Signer.(type) {
			case *ecdsa.PrivateKey, *rsa.PrivateKey, ed25519.PrivateKey:
				t.Errorf("%s: the signer is a bare %T: key bytes are reachable", alg, sk.Signer)
			}
			// It still signs for its certificate.
			if err := CheckKeyMatchesCert(sk.Signer, sk.Chain[0]); err != nil {
				t.Error(err)
			}
		}
	}
}
