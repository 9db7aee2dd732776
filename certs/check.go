package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"io"

	"github.com/chungthuc/chungthuc"
)

// publicKeysEqual reports whether a and b are the same public key.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	ea, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && b != nil && ea.Equal(b)
}

// CheckKeyMatchesCert refuses a key that does not belong to cert. It compares the public
// keys and then signs a random test digest with signer and verifies it with the
// certificate's public key, which also catches a token that reports one public key but
// signs with another, or cannot sign at all. Call it before a key is first used (at
// start-up, after loading a file or opening a token).
//
// Errors: EINVALID naming the certificate subject when the key does not match or the key
// type is unsupported; EUNAVAILABLE (joined with the signer's error) when the signer fails.
// Messages never contain key material.
func CheckKeyMatchesCert(signer crypto.Signer, cert *x509.Certificate) error {
	if signer == nil || cert == nil {
		return chungthuc.Errorf(chungthuc.EINVALID, "no key or no certificate to check")
	}
	subject := cert.Subject.String()
	if !publicKeysEqual(signer.Public(), cert.PublicKey) {
		return chungthuc.Errorf(chungthuc.EINVALID,
			"the private key does not match the certificate %q (serial %x)", subject, cert.SerialNumber)
	}
	msg := make([]byte, 32)
	if _, err := rand.Read(msg); err != nil {
		return err
	}
	msg = append([]byte("chungthuc key check\x00"), msg...)
	digest := sha256.Sum256(msg)

	var (
		sig []byte
		err error
	)
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		if sig, err = signer.Sign(rand.Reader, digest[:], crypto.SHA256); err == nil {
			if rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
				err = errMismatch
			}
		}
	case *ecdsa.PublicKey:
		if sig, err = signer.Sign(rand.Reader, digest[:], crypto.SHA256); err == nil {
			if !ecdsa.VerifyASN1(pub, digest[:], sig) {
				err = errMismatch
			}
		}
	case ed25519.PublicKey:
		if sig, err = signer.Sign(rand.Reader, msg, crypto.Hash(0)); err == nil {
			if !ed25519.Verify(pub, msg, sig) {
				err = errMismatch
			}
		}
	default:
		return chungthuc.Errorf(chungthuc.EINVALID, "certificate %q has an unsupported public key type %T", subject, pub)
	}
	if errors.Is(err, errMismatch) {
		return chungthuc.Errorf(chungthuc.EINVALID,
			"the key's test signature does not verify with the certificate %q (serial %x): wrong key", subject, cert.SerialNumber)
	} else if err != nil {
		return errors.Join(chungthuc.Errorf(chungthuc.EUNAVAILABLE,
			"the key for certificate %q could not sign a test digest", subject), err)
	}
	return nil
}

var errMismatch = errors.New("certs: signature does not verify")

// opaqueSigner hides the concrete key type, so that no code holding a SigningKey can type
// assert its way to the key bytes (*ecdsa.PrivateKey.D and the like); only Public and Sign
// are reachable.
type opaqueSigner struct{ s crypto.Signer }

func (o opaqueSigner) Public() crypto.PublicKey { return o.s.Public() }

func (o opaqueSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.s.Sign(r, digest, opts)
}

// opaque wraps a software key in an opaqueSigner (once).
func opaque(s crypto.Signer) crypto.Signer {
	if o, ok := s.(opaqueSigner); ok {
		return o
	}
	return opaqueSigner{s}
}
