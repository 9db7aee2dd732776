//go:build !cgo

package certs

import (
	"crypto"
	"crypto/x509"
	"io"

	"github.com/chungthuc/chungthuc"
)

// PKCS11Key is a private key on a PKCS#11 token. This build has no cgo, so PKCS#11 is not
// available: OpenPKCS11 always fails.
type PKCS11Key struct{ cert *x509.Certificate }

var _ crypto.Signer = (*PKCS11Key)(nil)

// OpenPKCS11 returns EUNSUPPORTED: PKCS#11 modules are C libraries and this binary was
// built with CGO_ENABLED=0.
func OpenPKCS11(cfg PKCS11Config, cert *x509.Certificate) (*PKCS11Key, error) {
	return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "PKCS#11 keys need a binary built with cgo (CGO_ENABLED=1)")
}

// Public returns the certificate's public key.
func (k *PKCS11Key) Public() crypto.PublicKey { return k.cert.PublicKey }

// Certificate returns the certificate the key was opened with.
func (k *PKCS11Key) Certificate() *x509.Certificate { return k.cert }

// Sign returns EUNSUPPORTED.
func (k *PKCS11Key) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "PKCS#11 keys need a binary built with cgo")
}

// Close does nothing.
func (k *PKCS11Key) Close() error { return nil }
