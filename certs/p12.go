package certs

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/chungthuc/chungthuc"
	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// LoadPKCS12 loads a signing key and its chain from a PKCS#12 (.p12/.pfx) file: modern
// files (AES-256-CBC with PBKDF2, as OpenSSL 3 writes by default) and legacy ones (3DES,
// RC2-40). The certificate that matches the key is the leaf; the CA certificates of the
// file follow it, ordered by issuer links (others are dropped). The key is checked with
// CheckKeyMatchesCert before it is returned, and handed out as an opaque crypto.Signer.
//
// Errors: ENOTFOUND when the file is missing; EUNAUTHORIZED for a wrong password;
// EINVALID for a malformed file or a key matching no certificate; EUNSUPPORTED for an
// unknown key type or PKCS#12 feature; EUNAVAILABLE when the key cannot sign.
func LoadPKCS12(path, password string) (*chungthuc.SigningKey, error) {
	data, err := readNamedFile(path, "PKCS#12 file")
	if err != nil {
		return nil, err
	}
	key, leaf, cas, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		var nie pkcs12.NotImplementedError
		switch {
		case errors.Is(err, pkcs12.ErrIncorrectPassword), errors.Is(err, pkcs12.ErrDecryption):
			return nil, chungthuc.Errorf(chungthuc.EUNAUTHORIZED, "%s: wrong password for the PKCS#12 file", path)
		case errors.As(err, &nie):
			return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "%s: %v", path, nie)
		default:
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "%s: malformed PKCS#12 file: %v", path, err)
		}
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "%s: unsupported private key type %s", path, fmt.Sprintf("%T", key))
	}
	all := append([]*x509.Certificate{leaf}, cas...)
	return assemble(signer, all, path)
}
