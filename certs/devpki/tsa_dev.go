package devpki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"net/http"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/cms"
	"github.com/chungthuc/chungthuc/cms/tsp"
)

// OIDs of the TSA certificate's extended key usage extension (RFC 5280 4.2.1.12).
var (
	oidTimeStamping = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	oidExtKeyUsage  = asn1.ObjectIdentifier{2, 5, 29, 37}
)

// TSAPolicyOID is the TSA policy of the development TSA, under the ITU-T/ISO "example"
// arc 2.999: it marks tokens that come from no real authority.
var TSAPolicyOID = asn1.ObjectIdentifier{2, 999, 3161, 1}

// devTSAMaxRequest caps the size of a time-stamp query (a real one is under 200 bytes).
const devTSAMaxRequest = 16 << 10

type devTSA struct {
	signer crypto.Signer
	cert   *x509.Certificate
	chain  []*x509.Certificate
	now    func() time.Time
}

// NewTSA returns an RFC 3161 time-stamping authority over HTTP (RFC 3161 section 3.4):
// POST application/timestamp-query, answered with application/timestamp-reply. For
// development and tests only: it keeps no log of what it stamped.
//
// Tokens carry TSTInfo version 1 with policy TSAPolicyOID, a random 160-bit serial
// number, genTime now() in UTC (whole seconds), accuracy 1 s, the request's nonce echoed,
// and the TSA name; they are CMS SignedData signed by signer with SHA-256, with the
// signing-certificate-v2 attribute (ESSCertIDv2) naming cert, and — when the request asks
// with certReq — cert and chain included. Requests, tokens and answers are read and built
// with package tsp (cms/tsp), the code the client and the verifier use.
//
// cert must be the certificate of signer with the id-kp-timeStamping extended key usage
// marked critical and no other EKU (RFC 3161 section 2.3); IssueTSACert makes one. now
// defaults to time.Now.
//
// Answers: 200 with a granted TimeStampResp; 400 with a rejection TimeStampResp
// (badDataFormat for an unparseable query, badAlg for a hash other than SHA-256/384/512,
// unacceptedPolicy for a policy other than TSAPolicyOID, unacceptedExtension for any
// extension); 405 for a method other than POST; 413 for a query over 16 KiB; 415 for
// another content type; 500 with a systemFailure TimeStampResp if signing fails.
func NewTSA(signer crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate, now func() time.Time) http.Handler {
	if now == nil {
		now = time.Now
	}
	return &devTSA{signer: signer, cert: cert, chain: chain, now: now}
}

func (d *devTSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "time-stamp queries are POSTed", http.StatusMethodNotAllowed)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/timestamp-query" {
		http.Error(w, "Content-Type must be application/timestamp-query", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, devTSAMaxRequest))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "time-stamp query too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read the query", http.StatusBadRequest)
		return
	}
	req, err := tsp.ParseRequest(body)
	if err != nil {
		d.reject(w, http.StatusBadRequest, tsp.FailBadDataFormat)
		return
	}
	switch {
	case !tsaHashes[req.Hash]:
		d.reject(w, http.StatusBadRequest, tsp.FailBadAlg)
		return
	case len(req.Policy) > 0 && !req.Policy.Equal(TSAPolicyOID):
		d.reject(w, http.StatusBadRequest, tsp.FailUnacceptedPolicy)
		return
	case req.HasExtensions:
		d.reject(w, http.StatusBadRequest, tsp.FailUnacceptedExtension)
		return
	}
	token, err := devToken(d.signer, d.cert, d.chain, d.now(), req.Hash, req.Digest, req.Nonce, req.CertReq)
	if err != nil {
		slog.Error("dev TSA: signing failed", "err", err)
		d.reject(w, http.StatusInternalServerError, tsp.FailSystemFailure)
		return
	}
	resp, err := (&tsp.Response{Status: tsp.Granted, Token: token}).Marshal()
	if err != nil {
		slog.Error("dev TSA: encoding failed", "err", err)
		d.reject(w, http.StatusInternalServerError, tsp.FailSystemFailure)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(resp)
}

// devToken makes the development TSA's token over digest (an h digest) at time now.
func devToken(signer crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate, now time.Time, h crypto.Hash, digest []byte, nonce *big.Int, withCerts bool) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 160))
	if err != nil {
		return nil, err
	}
	info := &tsp.Info{
		Policy:   TSAPolicyOID,
		Hash:     h,
		Digest:   digest,
		Serial:   serial,
		GenTime:  now.UTC().Truncate(time.Second),
		Accuracy: time.Second,
		Nonce:    nonce,
		TSAName:  tsp.DirectoryName(cert.RawSubject),
	}
	opt := cms.SignOptions{Signer: signer, Chain: append([]*x509.Certificate{cert}, chain...), Hash: crypto.SHA256}
	return tsp.Sign(info, opt, withCerts)
}

func (d *devTSA) reject(w http.ResponseWriter, code int, fi tsp.FailureInfo) {
	resp, err := (&tsp.Response{Status: tsp.Rejection, Failure: fi}).Marshal()
	if err != nil {
		http.Error(w, "rejected", code)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.WriteHeader(code)
	_, _ = w.Write(resp)
}

// IssueTSACert issues a certificate for a time-stamping key pub, signed by issuer with
// issuerKey, valid from notBefore to notAfter, with what RFC 3161 section 2.3 requires: the
// extended key usage extension marked critical holding only id-kp-timeStamping, and key
// usage digitalSignature (plus nonRepudiation). The serial number is random (128 bits).
//
// Errors: EINVALID when an argument is missing, the validity is empty, or issuer cannot
// sign certificates with issuerKey.
func IssueTSACert(issuer *x509.Certificate, issuerKey crypto.Signer, pub crypto.PublicKey, subject pkix.Name, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	if issuer == nil || issuerKey == nil || pub == nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "TSA certificate: issuer, issuer key and public key are required")
	}
	if !notAfter.After(notBefore) {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "TSA certificate: notAfter must be after notBefore")
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{oidTimeStamping})
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		// crypto/x509 writes EKU non-critical; RFC 3161 wants it critical, so it is given
		// raw (ExtraExtensions take precedence over the generated extension).
		ExtraExtensions:       []pkix.Extension{{Id: oidExtKeyUsage, Critical: true, Value: eku}},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, pub, issuerKey)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "TSA certificate: %v", err)
	}
	return x509.ParseCertificate(der)
}
