package devpki

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/chungthuc/chungthuc"
)

// Revocation in the development PKI: the revoked serial numbers are kept in
// {Dir}/revoked.json, replaced atomically on every change, and re-read whenever the file
// changes, so a `chungthuc pki revoke` in one process is seen by a running server. The root
// answers OCSP requests and signs the CRL itself (no delegated responder).

// devCRLValidity is how long a development CRL is valid (nextUpdate − thisUpdate); a cached
// CRL is re-signed after devCRLRefresh or as soon as the records change.
const (
	devCRLValidity = 7 * 24 * time.Hour
	devCRLRefresh  = time.Hour
)

// revokedFile is the name of the revocation records in the PKI directory.
const revokedFile = "revoked.json"

// devLTV is the long-term-validation state of a PKI: revocation records, the cached CRL
// and the time-stamping authority. Its zero value is ready.
type devLTV struct {
	mu      sync.Mutex
	info    os.FileInfo             // of revoked.json when recs was read; nil if absent
	loaded  bool                    // recs reflects info
	recs    map[string]revokedEntry // by lower-case hex serial
	version int                     // bumped whenever recs is re-read
	crl     []byte                  // cached CRL of recs at crlVer, signed at crlAt
	crlAt   time.Time
	crlNum  *big.Int
	crlVer  int

	tsaOnce sync.Mutex
	tsa     *devTSAKey // issued or loaded on first use

	issuedMu sync.Mutex
	issued   map[[32]byte]bool // Issued results by certificate hash, at most issuedCacheMax
}

// issuedCacheMax bounds the cache of signature checks made by Issued.
const issuedCacheMax = 4096

// revokedEntry is one record of revoked.json.
type revokedEntry struct {
	Serial    string    `json:"serial"` // lower-case hex, no leading zeros
	Reason    int       `json:"reason"` // RFC 5280 CRLReason
	RevokedAt time.Time `json:"revoked_at"`
}

type revokedDoc struct {
	Version int            `json:"version"`
	Revoked []revokedEntry `json:"revoked"`
}

// checkBaseURL validates Options.BaseURL and drops a trailing slash.
func checkBaseURL(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", chungthuc.Errorf(chungthuc.EINVALID, "development PKI base URL %q is not an http(s) URL without query or credentials", s)
	}
	return strings.TrimRight(s, "/"), nil
}

func (p *PKI) ocspURLs() []string {
	if p.baseURL == "" {
		return nil
	}
	return []string{p.baseURL + "/pki/ocsp"}
}

func (p *PKI) crlURLs() []string {
	if p.baseURL == "" {
		return nil
	}
	return []string{p.baseURL + "/pki/root.crl"}
}

// Issued reports whether c was issued by this PKI's root (the root itself excluded).
func (p *PKI) Issued(c *x509.Certificate) bool {
	if c == nil || bytes.Equal(c.Raw, p.root.Raw) || !bytes.Equal(c.RawIssuer, p.root.RawSubject) {
		return false
	}
	l := &p.ltv
	h := sha256.Sum256(c.Raw)
	l.issuedMu.Lock()
	ok, known := l.issued[h]
	l.issuedMu.Unlock()
	if known {
		return ok
	}
	ok = c.CheckSignatureFrom(p.root) == nil
	l.issuedMu.Lock()
	if l.issued == nil || len(l.issued) >= issuedCacheMax {
		l.issued = map[[32]byte]bool{}
	}
	l.issued[h] = ok
	l.issuedMu.Unlock()
	return ok
}

// Revoke records that the certificate with serial number serial was revoked at time at for
// reason (an RFC 5280 CRLReason: 0 unspecified, 1 keyCompromise, 3 affiliationChanged,
// 4 superseded, 5 cessationOfOperation, 6 certificateHold, 9 privilegeWithdrawn …). From
// then on the OCSP answers and CRLs of this PKI, in this process and any other using the
// same directory, report it revoked. The records file is replaced atomically.
//
// Errors: EINVALID for a missing or non-positive serial, a reason outside 0–10 or equal to
// 7 (unused), a zero time, or the root's own serial; ECONFLICT when the serial is already
// revoked (the first record stays).
func (p *PKI) Revoke(serial *big.Int, reason int, at time.Time) error {
	switch {
	case serial == nil || serial.Sign() <= 0:
		return chungthuc.Errorf(chungthuc.EINVALID, "revoke: a positive serial number is required")
	case reason < 0 || reason > 10 || reason == 7:
		return chungthuc.Errorf(chungthuc.EINVALID, "revoke: reason %d is not a CRL reason code (0–10, not 7)", reason)
	case at.IsZero():
		return chungthuc.Errorf(chungthuc.EINVALID, "revoke: a revocation time is required")
	case serial.Cmp(p.root.SerialNumber) == 0:
		return chungthuc.Errorf(chungthuc.EINVALID, "revoke: the root cannot revoke itself; remove the PKI directory instead")
	}
	l := &p.ltv
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := p.reloadLocked(); err != nil {
		return err
	}
	key := serial.Text(16)
	if e, ok := l.recs[key]; ok {
		return chungthuc.Errorf(chungthuc.ECONFLICT, "certificate %s was already revoked at %s", key, e.RevokedAt.Format(time.RFC3339))
	}
	doc := revokedDoc{Version: 1}
	for _, e := range l.recs {
		doc.Revoked = append(doc.Revoked, e)
	}
	entry := revokedEntry{Serial: key, Reason: reason, RevokedAt: at.UTC().Truncate(time.Second)}
	doc.Revoked = append(doc.Revoked, entry)
	sort.Slice(doc.Revoked, func(i, j int) bool { return doc.Revoked[i].RevokedAt.Before(doc.Revoked[j].RevokedAt) })
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := writeReplace(filepath.Join(p.Dir, revokedFile), append(data, '\n'), certMode); err != nil {
		return err
	}
	l.recs[key] = entry
	l.loaded = false // re-stat on next use, so the new file's stamp is recorded
	return nil
}

// Revoked lists the revocation records, oldest first.
//
// Errors: EINVALID when revoked.json is damaged.
func (p *PKI) Revoked() ([]x509.RevocationListEntry, error) {
	l := &p.ltv
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := p.reloadLocked(); err != nil {
		return nil, err
	}
	return l.entriesLocked(), nil
}

func (l *devLTV) entriesLocked() []x509.RevocationListEntry {
	out := make([]x509.RevocationListEntry, 0, len(l.recs))
	for _, e := range l.recs {
		n, _ := new(big.Int).SetString(e.Serial, 16)
		out = append(out, x509.RevocationListEntry{SerialNumber: n, RevocationTime: e.RevokedAt, ReasonCode: e.Reason})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].RevocationTime.Equal(out[j].RevocationTime) {
			return out[i].RevocationTime.Before(out[j].RevocationTime)
		}
		return out[i].SerialNumber.Cmp(out[j].SerialNumber) < 0
	})
	return out
}

// reloadLocked re-reads revoked.json when it changed since the last read. l.mu is held.
func (p *PKI) reloadLocked() error {
	l := &p.ltv
	path := filepath.Join(p.Dir, revokedFile)
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		st = nil
	} else if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	// Every change renames a new file into place, so the same file (inode), size and
	// modification time mean the same records.
	if l.loaded && (st == nil) == (l.info == nil) &&
		(st == nil || os.SameFile(st, l.info) && st.Size() == l.info.Size() && st.ModTime().Equal(l.info.ModTime())) {
		return nil
	}
	recs := map[string]revokedEntry{}
	if st != nil {
		data, err := readFile(path, "revocation records")
		if err != nil {
			return err
		}
		var doc revokedDoc
		if err := json.Unmarshal(data, &doc); err != nil {
			return chungthuc.Errorf(chungthuc.EINVALID, "%s is damaged: %v", path, err)
		}
		for _, e := range doc.Revoked {
			n, ok := new(big.Int).SetString(e.Serial, 16)
			if !ok || n.Sign() <= 0 || e.RevokedAt.IsZero() {
				return chungthuc.Errorf(chungthuc.EINVALID, "%s is damaged: bad entry %q", path, e.Serial)
			}
			e.Serial = n.Text(16)
			recs[e.Serial] = e
		}
	}
	l.recs, l.info, l.loaded = recs, st, true
	l.version++
	return nil
}

// status reports the revocation status of serial (for the OCSP responder).
func (p *PKI) status(serial *big.Int) (revoked bool, at time.Time, reason int) {
	l := &p.ltv
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := p.reloadLocked(); err != nil {
		// A damaged records file must not turn a revoked certificate "good": answer
		// revoked (unspecified) until a person fixes it.
		return true, time.Unix(0, 0), ocsp.Unspecified
	}
	e, ok := l.recs[serial.Text(16)]
	if !ok {
		return false, time.Time{}, 0
	}
	return true, e.RevokedAt, e.Reason
}

// CRL returns the current DER CRL of the root: every revoked serial, valid for seven days,
// re-signed at most hourly or when the records change.
//
// Errors: EINVALID when revoked.json is damaged.
func (p *PKI) CRL() ([]byte, error) {
	l := &p.ltv
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := p.reloadLocked(); err != nil {
		return nil, err
	}
	now := p.now().UTC().Truncate(time.Second)
	if l.crl != nil && l.crlVer == l.version && now.Sub(l.crlAt) < devCRLRefresh && !now.Before(l.crlAt) {
		return l.crl, nil
	}
	// CRL numbers must increase (RFC 5280 5.2.3), across processes too: use the signing
	// time in milliseconds, bumped past the last number this process used.
	num := big.NewInt(now.UnixMilli())
	if l.crlNum != nil && num.Cmp(l.crlNum) <= 0 {
		num = new(big.Int).Add(l.crlNum, big.NewInt(1))
	}
	crl, err := NewCRL(p.root, p.rootKey, num, l.entriesLocked(), now, now.Add(devCRLValidity))
	if err != nil {
		return nil, err
	}
	l.crl, l.crlAt, l.crlNum, l.crlVer = crl, now, num, l.version
	return crl, nil
}

// OCSPResponse returns a fresh DER OCSP response, signed by the root, for a certificate
// the root issued: good, or revoked with the recorded time and reason. It is valid for an
// hour from now.
//
// Errors: EINVALID when c was not issued by this PKI's root.
func (p *PKI) OCSPResponse(c *x509.Certificate) ([]byte, error) {
	if !p.Issued(c) {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "certificate %q was not issued by the development root", c.Subject.CommonName)
	}
	return p.ocspFor(c.SerialNumber)
}

func (p *PKI) ocspFor(serial *big.Int) ([]byte, error) {
	thisUpdate := p.now().UTC().Truncate(time.Second)
	tmpl := ocsp.Response{
		Status:       ocsp.Good,
		SerialNumber: serial,
		ThisUpdate:   thisUpdate,
		NextUpdate:   thisUpdate.Add(devOCSPValidity),
		IssuerHash:   crypto.SHA1,
	}
	if revoked, at, reason := p.status(serial); revoked {
		tmpl.Status = ocsp.Revoked
		tmpl.RevokedAt = at.UTC().Truncate(time.Second)
		tmpl.RevocationReason = reason
	}
	der, err := ocsp.CreateResponse(p.root, p.root, tmpl, p.rootKey)
	if err != nil {
		return nil, fmt.Errorf("certs: sign OCSP response: %w", err)
	}
	return der, nil
}

var _ chungthuc.RevocationSource = (*PKI)(nil)

// Revocation implements chungthuc.RevocationSource in-process: for each certificate of
// chain issued by this PKI's root (the root itself needs none) a fresh OCSP response, and
// the root's CRL once. A chain with no certificate of this PKI yields empty data.
//
// Errors: the context's error when ctx is done; EINVALID when revoked.json is damaged.
func (p *PKI) Revocation(ctx context.Context, chain []*x509.Certificate) (*chungthuc.RevocationData, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data := &chungthuc.RevocationData{}
	for _, c := range chain {
		if !p.Issued(c) {
			continue
		}
		resp, err := p.ocspFor(c.SerialNumber)
		if err != nil {
			return nil, err
		}
		data.OCSP = append(data.OCSP, resp)
	}
	if len(data.OCSP) > 0 {
		crl, err := p.CRL()
		if err != nil {
			return nil, err
		}
		data.CRLs = append(data.CRLs, crl)
	}
	return data, nil
}

// Handler serves the development PKI over HTTP, for relying parties that check online:
//
//	/pki/ocsp       OCSP (RFC 6960: POST, or GET /pki/ocsp/{base64 request}); see NewOCSPResponder
//	/pki/root.crl   the root's CRL (application/pkix-crl)
//	/pki/root.pem   the root certificate (application/x-pem-file)
//	/pki/tsa        the development TSA (RFC 3161 POST; issued on first use); see NewTSA
//
// Paths match with or without the leading /pki, so the handler works mounted as is or
// under http.StripPrefix("/pki", …). Other paths are 404.
func (p *PKI) Handler() http.Handler {
	responder := NewOCSPResponder(p.root, p.rootKey, p.status, p.now)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, "/pki")
		switch {
		case path == "/ocsp" || strings.HasPrefix(path, "/ocsp/"):
			r2 := new(http.Request)
			*r2 = *r
			u := *r.URL
			u.Path, u.RawPath = strings.TrimPrefix(path, "/ocsp"), ""
			r2.URL = &u
			responder.ServeHTTP(w, r2)
		case path == "/root.crl" || path == "/root.pem":
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Allow", "GET, HEAD")
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				return
			}
			body, ctype := p.rootPEM, "application/x-pem-file"
			if path == "/root.crl" {
				crl, err := p.CRL()
				if err != nil {
					http.Error(w, "CRL not available", http.StatusInternalServerError)
					return
				}
				body, ctype = crl, "application/pkix-crl"
				w.Header().Set("Cache-Control", "max-age=600, public")
			}
			w.Header().Set("Content-Type", ctype)
			_, _ = w.Write(body)
		case path == "/tsa":
			_, h, err := p.TSA(p.now)
			if err != nil {
				http.Error(w, "TSA not available", http.StatusInternalServerError)
				return
			}
			h.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// writeReplace writes data to path atomically, replacing any existing file: a synced
// temporary file in the same directory is renamed over path.
func writeReplace(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	name := tmp.Name()
	defer os.Remove(name)
	if err := tmp.Chmod(mode); err != nil {
		_ = tmp.Close() // already failing; the write error is the one to report
		return fmt.Errorf("certs: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close() // already failing; the write error is the one to report
		return fmt.Errorf("certs: write %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close() // already failing; the write error is the one to report
		return fmt.Errorf("certs: sync %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	syncDir(dir)
	return nil
}
