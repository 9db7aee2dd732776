package devpki

import (
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"time"

	"github.com/chungthuc/chungthuc"
)

// TSAValidity is the validity of the development TSA certificate (never beyond the root).
// Archive renewal looks at it: a document time-stamp is renewed before its TSA certificate
// expires.
const TSAValidity = 25 * 365 * 24 * time.Hour

// devTSAKey is the development TSA's key and certificate.
type devTSAKey struct {
	signer crypto.Signer
	cert   *x509.Certificate
}

// TSA returns the development time-stamping authority: an in-process chungthuc.Timestamper
// (no HTTP round trip, for the embedded default) and the same TSA as an RFC 3161 HTTP
// handler (see NewTSA) for other processes. Both sign with the TSA key in
// {Dir}/tsa.key and certificate {Dir}/tsa.pem, issued by the root on first use with
// IssueTSACert (critical extended key usage timeStamping only) and kept like the other
// keys (0600, written once, checked against the certificate when loaded). Tokens carry
// genTime now() (time.Now when nil) and include the TSA certificate and the root.
//
// Errors: EINVALID when tsa.pem exists without tsa.key, or the pair does not match, was not
// issued by this root or lacks the timeStamping usage.
func (p *PKI) TSA(now func() time.Time) (chungthuc.Timestamper, http.Handler, error) {
	if now == nil {
		now = time.Now
	}
	k, err := p.tsaKey()
	if err != nil {
		return nil, nil, err
	}
	chain := []*x509.Certificate{p.root}
	return &devTimestamper{key: k, chain: chain, now: now}, NewTSA(k.signer, k.cert, chain, now), nil
}

// tsaKey loads or issues the TSA key once per PKI.
func (p *PKI) tsaKey() (*devTSAKey, error) {
	l := &p.ltv
	l.tsaOnce.Lock()
	defer l.tsaOnce.Unlock()
	if l.tsa != nil {
		return l.tsa, nil
	}
	k, err := p.issueTSA()
	if err != nil {
		return nil, err
	}
	l.tsa = k
	return k, nil
}

// issueTSA mirrors issue: key first (never replaced), certificate last.
func (p *PKI) issueTSA() (*devTSAKey, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	certPath, keyPath := filepath.Join(p.Dir, "tsa.pem"), filepath.Join(p.Dir, "tsa.key")
	if ok, err := pathExists(certPath); err != nil {
		return nil, err
	} else if ok {
		sk, _, err := p.loadPair("development TSA", certPath, keyPath)
		if err != nil {
			return nil, err
		}
		if !hasTimeStampingEKU(sk.Chain[0]) {
			return nil, chungthuc.Errorf(chungthuc.EINVALID, "%s lacks the timeStamping extended key usage", certPath)
		}
		return &devTSAKey{signer: sk.Signer, cert: sk.Chain[0]}, nil
	}
	var signer crypto.Signer
	if ok, err := pathExists(keyPath); err != nil {
		return nil, err
	} else if ok {
		if signer, err = p.loadKey(keyPath); err != nil {
			return nil, err
		}
	} else {
		if signer, err = p.generateKey(); err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(signer)
		if err != nil {
			return nil, fmt.Errorf("certs: marshal key: %w", err)
		}
		err = writeExclusive(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), keyMode)
		if errors.Is(err, fs.ErrExist) {
			if signer, err = p.loadKey(keyPath); err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
	}
	now := p.now().UTC().Truncate(time.Second)
	notAfter := now.Add(TSAValidity)
	if notAfter.After(p.root.NotAfter) {
		notAfter = p.root.NotAfter
	}
	cert, err := IssueTSACert(p.root, p.rootKey, signer.Public(), pkix.Name{
		Country:      []string{"VN"},
		Organization: []string{"chungthuc (chỉ dùng thử nghiệm)"},
		CommonName:   "chungthuc development TSA",
	}, now.Add(-backdate), notAfter)
	if err != nil {
		return nil, err
	}
	err = writeExclusive(certPath, encodeCertificatePEM(cert), certMode)
	if errors.Is(err, fs.ErrExist) {
		sk, _, err := p.loadPair("development TSA", certPath, keyPath)
		if err != nil {
			return nil, err
		}
		return &devTSAKey{signer: sk.Signer, cert: sk.Chain[0]}, nil
	} else if err != nil {
		return nil, err
	}
	return &devTSAKey{signer: opaque(signer), cert: cert}, nil
}

// devTimestamper is the in-process development TSA.
type devTimestamper struct {
	key   *devTSAKey
	chain []*x509.Certificate
	now   func() time.Time
}

var _ chungthuc.Timestamper = (*devTimestamper)(nil)

// Timestamp implements chungthuc.Timestamper like NewTSA answers a query with certReq:
// a token over digest with genTime now (whole seconds, UTC), policy TSAPolicyOID, the
// TSA certificate and the root included. Errors: EUNSUPPORTED for a hash other than
// SHA-256/384/512; EINVALID for a digest of the wrong size; the context's error.
func (d *devTimestamper) Timestamp(ctx context.Context, digest []byte, h crypto.Hash) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !tsaHashes[h] {
		return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "timestamp: hash %v is not supported (use SHA-256, SHA-384 or SHA-512)", h)
	}
	if len(digest) != h.Size() {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "timestamp: digest is %d bytes, %v needs %d", len(digest), h, h.Size())
	}
	token, err := devToken(d.key.signer, d.key.cert, d.chain, d.now(), h, digest, nil, true)
	if err != nil {
		return nil, fmt.Errorf("certs: development TSA: %w", err)
	}
	return token, nil
}
