package devpki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/chungthuc/chungthuc"
)

// Key algorithms of the development PKI.
const (
	AlgECDSAP256 = "ecdsa-p256" // the default: fast, small signatures
	AlgRSA3072   = "rsa-3072"   // for relying parties that want RSA
)

// Validity periods of the development PKI. The root and the TSA outlive the signers by
// decades, so that a B-LTA copy still verifies 20 years on, after every officer and seal
// certificate has expired (production relies on archive renewal with real TSAs).
const (
	RootValidity = 30 * 365 * 24 * time.Hour
	LeafValidity = 3 * 365 * 24 * time.Hour
	// backdate absorbs clock differences between this machine and a verifier's.
	backdate = 5 * time.Minute
)

// Extended key usages of seal and officer certificates. Verifiers disagree on what a
// document-signing certificate must carry: pdfsign's verifier accepts emailProtection and
// rejects documentSigning alone; NSS (pdfsig) checks emailProtection for "email signer";
// RFC 9336 defines documentSigning; Adobe and Windows know Microsoft's document signing.
var (
	OIDExtKeyUsageDocumentSigning   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}
	OIDExtKeyUsageMSDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 10, 3, 12}
)

// Options configures a development PKI.
type Options struct {
	// Algorithm of new keys: AlgECDSAP256 (default) or AlgRSA3072. Existing keys keep
	// their algorithm.
	Algorithm string
	// Now is the clock used for validity periods; time.Now when nil.
	Now func() time.Time
	// BaseURL, when set (e.g. "https://chungthuc.example"), is written into certificates
	// issued from now on: OCSP at {BaseURL}/pki/ocsp (authority information access) and
	// the CRL at {BaseURL}/pki/root.crl (CRL distribution point), both served by Handler.
	// Certificates issued earlier are left as they are.
	BaseURL string
}

// PKI is a development PKI on disk, meant for the embedded default and tests, never for
// real certification. Layout of Dir:
//
//	root.pem, root.key                 the root CA (created by Open if missing)
//	units/{CODE}/seal.pem, seal.key    a unit's electronic seal
//	officers/{ID}.pem, {ID}.key        an officer's personal signing certificate
//
// Keys are PKCS#8 PEM files of mode 0600 in directories of mode 0700, written atomically
// and never overwritten. PKI implements chungthuc.KeyStore; it is safe for concurrent
// use, and loaded keys are cached after their first check.
type PKI struct {
	// Dir is the directory of the PKI.
	Dir string

	alg     string
	now     func() time.Time
	root    *x509.Certificate
	rootKey crypto.Signer
	rootPEM []byte

	baseURL string // without a trailing slash; "" = no OCSP/CRL locations in certificates
	ltv     devLTV // revocation records, CRL cache and TSA (devpki_revocation.go)

	mu      sync.Mutex // serialises issuance and loading from disk
	cacheMu sync.RWMutex
	cache   map[string]*chungthuc.SigningKey // "seal/CODE", "officer/ID"
	certPEM map[string][]byte                // officer leaf PEM by cache key
}

var _ chungthuc.KeyStore = (*PKI)(nil)

// Open opens the development PKI in dir, creating dir (0700) and the root CA if they
// are missing. An existing root is checked: its key must match its certificate.
//
// Errors: EINVALID for an unknown algorithm, a key file readable by others, a root whose
// key does not match, or a certificate without its key (remove both to start again).
func Open(dir string, opt Options) (*PKI, error) {
	alg := opt.Algorithm
	if alg == "" {
		alg = AlgECDSAP256
	}
	if alg != AlgECDSAP256 && alg != AlgRSA3072 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "unknown key algorithm %q (want %q or %q)", alg, AlgECDSAP256, AlgRSA3072)
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	baseURL, err := checkBaseURL(opt.BaseURL)
	if err != nil {
		return nil, err
	}
	p := &PKI{
		Dir:     dir,
		alg:     alg,
		now:     now,
		baseURL: baseURL,
		cache:   map[string]*chungthuc.SigningKey{},
		certPEM: map[string][]byte{},
	}
	if err := mkdirPrivate(dir); err != nil {
		return nil, err
	}
	sk, certPEM, err := p.issue("development root", filepath.Join(dir, "root.pem"), filepath.Join(dir, "root.key"), p.rootTemplate)
	if err != nil {
		return nil, err
	}
	cert := sk.Chain[0]
	if !cert.IsCA || cert.CheckSignatureFrom(cert) != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "%s is not a self-signed CA certificate", filepath.Join(dir, "root.pem"))
	}
	p.root, p.rootKey, p.rootPEM = cert, sk.Signer, certPEM
	return p, nil
}

// Root returns the root CA certificate (to install as a trust anchor).
func (p *PKI) Root() *x509.Certificate { return p.root }

// RootPEM returns the root CA certificate in PEM.
func (p *PKI) RootPEM() []byte { return bytes.Clone(p.rootPEM) }

// SealFiles returns the certificate and key files of unit code's seal (they need not exist).
func (p *PKI) SealFiles(code string) (certPath, keyPath string) {
	d := filepath.Join(p.Dir, "units", code)
	return filepath.Join(d, "seal.pem"), filepath.Join(d, "seal.key")
}

// OfficerFiles returns the certificate and key files of officer id (they need not exist).
func (p *PKI) OfficerFiles(id int64) (certPath, keyPath string) {
	d := filepath.Join(p.Dir, "officers")
	s := strconv.FormatInt(id, 10)
	return filepath.Join(d, s+".pem"), filepath.Join(d, s+".key")
}

// IssueSeal returns the electronic seal of unit, issuing it first if it does not exist:
// subject C=VN, O and CN = the unit's name, serialNumber = the unit's code. It is
// idempotent: an existing seal is returned as it is, even if the unit was renamed since.
//
// Errors: EINVALID for a bad unit code or name (see cleanName: NFC UTF-8, at most 64
// characters, no control characters) or a damaged existing seal.
func (p *PKI) IssueSeal(unit *chungthuc.Unit) (*chungthuc.SigningKey, error) {
	subject, err := sealSubject(unit)
	if err != nil {
		return nil, err
	}
	if sk, _ := p.cached("seal/" + unit.Code); sk != nil {
		return sk, nil
	}
	certPath, keyPath := p.SealFiles(unit.Code)
	if err := mkdirPrivate(filepath.Dir(certPath)); err != nil {
		return nil, err
	}
	sk, _, err := p.issue("seal of unit "+unit.Code, certPath, keyPath, func(pub crypto.PublicKey) (*x509.Certificate, error) {
		return p.leafTemplate(subject, pub)
	})
	if err != nil {
		return nil, err
	}
	p.remember("seal/"+unit.Code, sk, nil)
	return copyKey(sk), nil
}

// IssueOfficer returns the personal signing key of officer o of unit, issuing it first if
// it does not exist: subject C=VN, O = the unit's name, title = o.Title (if any), CN =
// o.Name. It also returns the certificate in PEM (to store in the register as
// Officer.CertPEM). It is idempotent: an existing certificate is returned as it is.
//
// Errors: EINVALID for an officer without ID, an officer of another unit, bad names (see
// IssueSeal) or a damaged existing certificate.
func (p *PKI) IssueOfficer(o *chungthuc.Officer, unit *chungthuc.Unit) (*chungthuc.SigningKey, []byte, error) {
	subject, err := officerSubject(o, unit)
	if err != nil {
		return nil, nil, err
	}
	if sk, certPEM := p.cached(officerKey(o.ID)); sk != nil {
		return sk, bytes.Clone(certPEM), nil
	}
	certPath, keyPath := p.OfficerFiles(o.ID)
	if err := mkdirPrivate(filepath.Dir(certPath)); err != nil {
		return nil, nil, err
	}
	sk, certPEM, err := p.issue(fmt.Sprintf("officer %d", o.ID), certPath, keyPath, func(pub crypto.PublicKey) (*x509.Certificate, error) {
		return p.leafTemplate(subject, pub)
	})
	if err != nil {
		return nil, nil, err
	}
	p.remember(officerKey(o.ID), sk, certPEM)
	return copyKey(sk), bytes.Clone(certPEM), nil
}

// SealKey implements chungthuc.KeyStore: the seal of u issued earlier by IssueSeal.
//
// Errors: ENOTFOUND when u has no seal yet; EINVALID for a bad unit code or damaged
// files; the context's error when ctx is done.
func (p *PKI) SealKey(ctx context.Context, u *chungthuc.Unit) (*chungthuc.SigningKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if u == nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "no unit")
	}
	if err := chungthuc.CheckUnitCode(u.Code); err != nil {
		return nil, err
	}
	key := "seal/" + u.Code
	if sk, _ := p.cached(key); sk != nil {
		return sk, p.notRevoked(sk, "unit "+u.Code)
	}
	certPath, keyPath := p.SealFiles(u.Code)
	sk, _, err := p.loadOnce(key, "seal of unit "+u.Code, certPath, keyPath)
	if err != nil {
		return nil, err
	}
	return sk, p.notRevoked(sk, "unit "+u.Code)
}

// OfficerKey implements chungthuc.KeyStore: the key of o issued earlier by IssueOfficer.
// When o.CertPEM is set it must hold the same certificate as the key store, so the
// register and the keys cannot silently disagree.
//
// Errors: ENOTFOUND when o has no key yet; ECONFLICT when o.CertPEM names another
// certificate; EINVALID for an officer without ID or damaged files; the context's error
// when ctx is done.
func (p *PKI) OfficerKey(ctx context.Context, o *chungthuc.Officer) (*chungthuc.SigningKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o == nil || o.ID <= 0 {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "officer has no ID")
	}
	key := officerKey(o.ID)
	sk, certPEM := p.cached(key)
	if sk == nil {
		certPath, keyPath := p.OfficerFiles(o.ID)
		var err error
		if sk, certPEM, err = p.loadOnce(key, fmt.Sprintf("officer %d", o.ID), certPath, keyPath); err != nil {
			return nil, err
		}
	}
	if len(o.CertPEM) > 0 && !bytes.Equal(o.CertPEM, certPEM) && !sameLeaf(o.CertPEM, sk.Chain[0]) {
		return nil, chungthuc.Errorf(chungthuc.ECONFLICT,
			"officer %d's certificate in the register is not the one of the key store (%q)", o.ID, sk.Chain[0].Subject.String())
	}
	return sk, p.notRevoked(sk, fmt.Sprintf("officer %d", o.ID))
}

// notRevoked refuses a key whose certificate this PKI has revoked: nothing is signed with it
// any more (EFORBIDDEN, naming the revocation date).
func (p *PKI) notRevoked(sk *chungthuc.SigningKey, what string) error {
	revoked, err := p.Revoked()
	if err != nil {
		return err
	}
	for _, r := range revoked {
		if r.SerialNumber.Cmp(sk.Chain[0].SerialNumber) == 0 {
			return chungthuc.Errorf(chungthuc.EFORBIDDEN, "the signing certificate of %s was revoked on %s; issue a new one before certifying",
				what, r.RevocationTime.In(chungthuc.Vietnam).Format("2006-01-02 15:04"))
		}
	}
	return nil
}

func officerKey(id int64) string { return "officer/" + strconv.FormatInt(id, 10) }

// sameLeaf reports whether the first certificate of certPEM is c.
func sameLeaf(certPEM []byte, c *x509.Certificate) bool {
	b, _ := pem.Decode(certPEM)
	return b != nil && b.Type == "CERTIFICATE" && bytes.Equal(b.Bytes, c.Raw)
}

// cached returns a copy of a cached key and its leaf PEM, or nil.
func (p *PKI) cached(key string) (*chungthuc.SigningKey, []byte) {
	p.cacheMu.RLock()
	sk, certPEM := p.cache[key], p.certPEM[key]
	p.cacheMu.RUnlock()
	if sk == nil {
		return nil, nil
	}
	return copyKey(sk), certPEM
}

func (p *PKI) remember(key string, sk *chungthuc.SigningKey, certPEM []byte) {
	p.cacheMu.Lock()
	p.cache[key] = sk
	p.certPEM[key] = certPEM
	p.cacheMu.Unlock()
}

// loadOnce loads a leaf from disk under p.mu, unless another goroutine did meanwhile.
func (p *PKI) loadOnce(key, what, certPath, keyPath string) (*chungthuc.SigningKey, []byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if sk, certPEM := p.cached(key); sk != nil {
		return sk, certPEM, nil
	}
	ok, err := pathExists(certPath)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "no key for the %s in the development PKI; issue it first", what)
	}
	sk, certPEM, err := p.loadPair(what, certPath, keyPath)
	if err != nil {
		return nil, nil, err
	}
	p.remember(key, sk, certPEM)
	return copyKey(sk), certPEM, nil
}

// copyKey returns a copy whose Chain slice the caller may change.
func copyKey(sk *chungthuc.SigningKey) *chungthuc.SigningKey {
	return &chungthuc.SigningKey{Signer: sk.Signer, Chain: append([]*x509.Certificate(nil), sk.Chain...)}
}

// issue returns the key and certificate at keyPath and certPath, creating what is missing.
// The key is written first and the certificate last, so a crash in between leaves a key
// that the next call certifies (keys are never replaced); a certificate without its key
// is an error for a person to look at. It holds p.mu throughout.
func (p *PKI) issue(what, certPath, keyPath string, template func(crypto.PublicKey) (*x509.Certificate, error)) (*chungthuc.SigningKey, []byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ok, err := pathExists(certPath); err != nil {
		return nil, nil, err
	} else if ok {
		return p.loadPair(what, certPath, keyPath)
	}

	var signer crypto.Signer
	if ok, err := pathExists(keyPath); err != nil {
		return nil, nil, err
	} else if ok {
		if signer, err = p.loadKey(keyPath); err != nil {
			return nil, nil, err
		}
	} else {
		if signer, err = p.generateKey(); err != nil {
			return nil, nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(signer)
		if err != nil {
			return nil, nil, fmt.Errorf("certs: marshal key: %w", err)
		}
		keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err := writeExclusive(keyPath, keyPEM, keyMode); errors.Is(err, fs.ErrExist) {
			// Another process won the race: certify its key, never replace it.
			if signer, err = p.loadKey(keyPath); err != nil {
				return nil, nil, err
			}
		} else if err != nil {
			return nil, nil, err
		}
	}

	tmpl, err := template(signer.Public())
	if err != nil {
		return nil, nil, err
	}
	parent, parentKey := p.root, p.rootKey
	if parent == nil { // the root itself
		parent, parentKey = tmpl, signer
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, signer.Public(), parentKey)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: create certificate for the %s: %w", what, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: parse new certificate: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := writeExclusive(certPath, certPEM, certMode); errors.Is(err, fs.ErrExist) {
		return p.loadPair(what, certPath, keyPath)
	} else if err != nil {
		return nil, nil, err
	}
	return &chungthuc.SigningKey{Signer: opaque(signer), Chain: p.chain(cert)}, certPEM, nil
}

// loadPair reads a certificate and its key, checks that they match and that the
// certificate was issued by this PKI's root.
func (p *PKI) loadPair(what, certPath, keyPath string) (*chungthuc.SigningKey, []byte, error) {
	certPEM, err := readFile(certPath, "certificate file")
	if err != nil {
		return nil, nil, err
	}
	list, err := parseCertificatePEM(certPEM)
	if err != nil {
		return nil, nil, prefixed(certPath, err)
	}
	cert := list[0]
	if ok, err := pathExists(keyPath); err != nil {
		return nil, nil, err
	} else if !ok {
		return nil, nil, chungthuc.Errorf(chungthuc.EINVALID,
			"the %s has a certificate %s but no key %s; remove the certificate to issue a new one", what, certPath, keyPath)
	}
	signer, err := p.loadKey(keyPath)
	if err != nil {
		return nil, nil, err
	}
	if err := checkKeyMatchesCert(signer, cert); err != nil {
		return nil, nil, prefixed(keyPath, err)
	}
	if p.root != nil && cert.CheckSignatureFrom(p.root) != nil {
		return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "%s was not issued by the development root %s", certPath, filepath.Join(p.Dir, "root.pem"))
	}
	return &chungthuc.SigningKey{Signer: opaque(signer), Chain: p.chain(cert)}, certPEM, nil
}

func (p *PKI) loadKey(keyPath string) (crypto.Signer, error) {
	if err := checkKeyFileMode(keyPath); err != nil {
		return nil, err
	}
	data, err := readFile(keyPath, "key file")
	if err != nil {
		return nil, err
	}
	return parseKeyPEM(data, keyPath)
}

// chain is leaf, root (or the root alone).
func (p *PKI) chain(leaf *x509.Certificate) []*x509.Certificate {
	if p.root == nil || bytes.Equal(leaf.Raw, p.root.Raw) {
		return []*x509.Certificate{leaf}
	}
	return []*x509.Certificate{leaf, p.root}
}

func (p *PKI) generateKey() (crypto.Signer, error) {
	switch p.alg {
	case AlgRSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	default:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
}

func (p *PKI) rootTemplate(pub crypto.PublicKey) (*x509.Certificate, error) {
	subject, err := marshalName(
		nameAttr{oid: oidCountry, value: "VN", printable: true},
		nameAttr{oid: oidOrganization, value: "chungthuc (chỉ dùng thử nghiệm)"},
		nameAttr{oid: oidCommonName, value: "chungthuc development root CA"},
	)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	now := p.now().UTC().Truncate(time.Second)
	return &x509.Certificate{
		SerialNumber:          serial,
		RawSubject:            subject,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(RootValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		SubjectKeyId:          ski,
		AuthorityKeyId:        ski,
	}, nil
}

// leafTemplate is a seal or officer certificate: a non-repudiation signing key for
// documents, valid 3 years (never beyond the root).
func (p *PKI) leafTemplate(subject []byte, pub crypto.PublicKey) (*x509.Certificate, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	ski, err := subjectKeyID(pub)
	if err != nil {
		return nil, err
	}
	now := p.now().UTC().Truncate(time.Second)
	notAfter := now.Add(LeafValidity)
	if notAfter.After(p.root.NotAfter) {
		notAfter = p.root.NotAfter
	}
	return &x509.Certificate{
		SerialNumber:          serial,
		RawSubject:            subject,
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{OIDExtKeyUsageDocumentSigning, OIDExtKeyUsageMSDocumentSigning},
		BasicConstraintsValid: true,
		SubjectKeyId:          ski,
		AuthorityKeyId:        p.root.SubjectKeyId,
		OCSPServer:            p.ocspURLs(),
		CRLDistributionPoints: p.crlURLs(),
	}, nil
}

// randomSerial returns a random positive serial number of at most 128 bits.
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, err
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// subjectKeyID is the SHA-1 of the subjectPublicKey bits (RFC 5280 4.2.1.2, method 1).
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:], nil
}
