package certs

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/chungthuc/chungthuc"
)

// ParseCertificatePEM returns every CERTIFICATE block of data, in file order. Other PEM
// blocks (keys, parameters) and text between blocks are ignored. It returns EINVALID when
// a certificate block does not parse or when data holds no certificate at all.
func ParseCertificatePEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "PEM block %d is not a valid certificate: %v", n, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "no PEM certificate found")
	}
	return certs, nil
}

// EncodeCertificatePEM returns the PEM encoding of certs, in order.
func EncodeCertificatePEM(certs ...*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return buf.Bytes()
}

// parsePrivateKeyPEM decodes the first private key block of data: PKCS#8 ("PRIVATE
// KEY"), password-protected PKCS#8 ("ENCRYPTED PRIVATE KEY", PBES2), PKCS#1 ("RSA PRIVATE
// KEY") or SEC 1 ("EC PRIVATE KEY"). name is used in messages only.
func parsePrivateKeyPEM(data []byte, name, password string) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "%s: no PEM private key found", name)
		}
		var (
			key any
			err error
		)
		switch b.Type {
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			if _, ok := b.Headers["Proc-Type"]; ok {
				return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED,
					"%s: legacy PEM encryption is not supported; convert with `openssl pkcs8 -topk8 -v2 aes-256-cbc`", name)
			}
			switch b.Type {
			case "PRIVATE KEY":
				key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
			case "RSA PRIVATE KEY":
				key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
			default:
				key, err = x509.ParseECPrivateKey(b.Bytes)
			}
			if err != nil {
				return nil, chungthuc.Errorf(chungthuc.EINVALID, "%s: malformed private key", name)
			}
		case "ENCRYPTED PRIVATE KEY":
			if password == "" {
				return nil, chungthuc.Errorf(chungthuc.EUNAUTHORIZED, "%s: the private key is encrypted and no password was given", name)
			}
			der, err := decryptPKCS8(b.Bytes, password)
			if err != nil {
				var ce *chungthuc.Error
				if errors.As(err, &ce) {
					return nil, chungthuc.Errorf(ce.Code, "%s: %s", name, ce.Message)
				}
				return nil, err
			}
			key, err = x509.ParsePKCS8PrivateKey(der)
			if err != nil {
				// A wrong password usually fails the padding check; when it does not, the
				// decrypted bytes are garbage and fail here.
				return nil, chungthuc.Errorf(chungthuc.EUNAUTHORIZED, "%s: wrong password or corrupt private key", name)
			}
		default:
			continue
		}
		s, ok := key.(crypto.Signer)
		if !ok {
			return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "%s: unsupported private key type %T", name, key)
		}
		return s, nil
	}
}

// LoadPEM loads a signing key from a PEM certificate file (the signer's certificate and,
// optionally, its intermediates and root, in any order) and a PEM private key file
// (PKCS#8, PKCS#1, SEC 1, or PBES2-encrypted PKCS#8 when a password is given; only the
// first password is used). The certificate that matches the key becomes the leaf; the
// chain is ordered leaf first by issuer links, and certificates outside that path are
// dropped. The key is checked with CheckKeyMatchesCert before it is returned, and handed
// out as an opaque crypto.Signer (its concrete type hidden).
//
// Errors: ENOTFOUND when a file is missing; EINVALID for malformed files or a key that
// matches no certificate; EUNAUTHORIZED for a missing or wrong password; EUNSUPPORTED
// for legacy PEM encryption or unknown key types; EUNAVAILABLE when the key cannot sign.
func LoadPEM(certPEMPath, keyPEMPath string, password ...string) (*chungthuc.SigningKey, error) {
	certData, err := readNamedFile(certPEMPath, "certificate file")
	if err != nil {
		return nil, err
	}
	certs, err := ParseCertificatePEM(certData)
	if err != nil {
		return nil, withPrefix(certPEMPath, err)
	}
	keyData, err := readNamedFile(keyPEMPath, "key file")
	if err != nil {
		return nil, err
	}
	pass := ""
	if len(password) > 0 {
		pass = password[0]
	}
	signer, err := parsePrivateKeyPEM(keyData, keyPEMPath, pass)
	if err != nil {
		return nil, err
	}
	return assemble(signer, certs, certPEMPath)
}

// assemble finds the certificate of signer among certs, checks the pair and orders the
// chain leaf first.
func assemble(signer crypto.Signer, certs []*x509.Certificate, source string) (*chungthuc.SigningKey, error) {
	var leaf *x509.Certificate
	for _, c := range certs {
		if publicKeysEqual(signer.Public(), c.PublicKey) {
			leaf = c
			break
		}
	}
	if leaf == nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID,
			"%s: the private key matches none of its %d certificate(s) (first: %q)", source, len(certs), certs[0].Subject.String())
	}
	if err := CheckKeyMatchesCert(signer, leaf); err != nil {
		return nil, err
	}
	return &chungthuc.SigningKey{Signer: opaque(signer), Chain: OrderChain(leaf, certs)}, nil
}

// OrderChain returns leaf followed by its issuers found in pool, each one the verified
// signer of the one before, stopping at a self-signed certificate or when no issuer is in
// pool. Certificates of pool outside that path are left out.
func OrderChain(leaf *x509.Certificate, pool []*x509.Certificate) []*x509.Certificate {
	chain := []*x509.Certificate{leaf}
	used := map[*x509.Certificate]bool{leaf: true}
	cur := leaf
	for len(chain) < 16 {
		if bytes.Equal(cur.RawIssuer, cur.RawSubject) && cur.CheckSignatureFrom(cur) == nil {
			break
		}
		var next *x509.Certificate
		for _, c := range pool {
			if used[c] || bytes.Equal(c.Raw, cur.Raw) || !bytes.Equal(c.RawSubject, cur.RawIssuer) {
				continue
			}
			if cur.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		used[next] = true
		chain = append(chain, next)
		cur = next
	}
	return chain
}

// readFile reads a file, mapping a missing file to ENOTFOUND naming it.
func readNamedFile(path, what string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "%s %s not found", what, path)
	} else if err != nil {
		return nil, fmt.Errorf("certs: read %s %s: %w", what, path, err)
	}
	return data, nil
}

// prefixError puts a file name in front of an *chungthuc.Error's message.
func withPrefix(name string, err error) error {
	var ce *chungthuc.Error
	if errors.As(err, &ce) {
		return chungthuc.Errorf(ce.Code, "%s: %s", name, ce.Message)
	}
	return fmt.Errorf("%s: %w", name, err)
}
