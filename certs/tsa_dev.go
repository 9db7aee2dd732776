package certs

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

	"github.com/digitorus/timestamp"

	"github.com/chungthuc/chungthuc"
)

// DevTSAPolicyOID is the TSA policy of the development TSA, under the ITU-T/ISO "example"
// arc 2.999: it marks tokens that come from no real authority.
var DevTSAPolicyOID = asn1.ObjectIdentifier{2, 999, 3161, 1}

// devTSAMaxRequest caps the size of a time-stamp query (a real one is under 200 bytes).
const devTSAMaxRequest = 16 << 10

type devTSA struct {
	signer crypto.Signer
	cert   *x509.Certificate
	chain  []*x509.Certificate
	now    func() time.Time
}

// NewDevTSA returns an RFC 3161 time-stamping authority over HTTP (RFC 3161 section 3.4):
// POST application/timestamp-query, answered with application/timestamp-reply. For
// development and tests only: it keeps no log of what it stamped.
//
// Tokens carry TSTInfo version 1 with policy DevTSAPolicyOID, a random 160-bit serial
// number, genTime now() in UTC (whole seconds), accuracy 1 s, the request's nonce echoed,
// and the TSA name; they are CMS SignedData signed by signer with SHA-256, with the
// signing-certificate-v2 attribute (ESSCertIDv2) naming cert, and — when the request asks
// with certReq — cert and chain (intermediates, not the root) included.
//
// cert must be the certificate of signer with the id-kp-timeStamping extended key usage
// marked critical and no other EKU (RFC 3161 section 2.3); IssueTSACert makes one. now
// defaults to time.Now.
//
// Answers: 200 with a granted TimeStampResp; 400 with a rejection TimeStampResp
// (badDataFormat for an unparseable query, badAlg for a hash other than SHA-256/384/512,
// unacceptedPolicy for a policy other than DevTSAPolicyOID, unacceptedExtension for any
// extension); 405 for a method other than POST; 413 for a query over 16 KiB; 415 for
// another content type; 500 with a systemFailure TimeStampResp if signing fails.
func NewDevTSA(signer crypto.Signer, cert *x509.Certificate, chain []*x509.Certificate, now func() time.Time) http.Handler {
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
	req, err := timestamp.ParseRequest(body)
	if err != nil {
		fi := timestamp.BadDataFormat
		if err.Error() == "Time-Stamp request uses unknown hash function" {
			fi = timestamp.BadAlgorithm
		}
		d.reject(w, http.StatusBadRequest, fi)
		return
	}
	switch {
	case tsaHashes[req.HashAlgorithm] == nil:
		d.reject(w, http.StatusBadRequest, timestamp.BadAlgorithm)
		return
	case len(req.HashedMessage) != req.HashAlgorithm.Size():
		d.reject(w, http.StatusBadRequest, timestamp.BadDataFormat)
		return
	case len(req.TSAPolicyOID) > 0 && !req.TSAPolicyOID.Equal(DevTSAPolicyOID):
		d.reject(w, http.StatusBadRequest, timestamp.UnacceptedPolicy)
		return
	case len(req.Extensions) > 0:
		d.reject(w, http.StatusBadRequest, timestamp.UnacceptedExtension)
		return
	}
	ts := &timestamp.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     req.HashedMessage,
		Time:              d.now().UTC().Truncate(time.Second), // GeneralizedTime must end in Z
		Accuracy:          time.Second,
		Policy:            DevTSAPolicyOID,
		Nonce:             req.Nonce,
		AddTSACertificate: req.Certificates,
	}
	if req.Certificates {
		ts.Certificates = d.chain
	}
	resp, err := ts.CreateResponseWithOpts(d.cert, d.signer, crypto.SHA256)
	if err != nil {
		slog.Error("dev TSA: signing failed", "err", err)
		d.reject(w, http.StatusInternalServerError, timestamp.SystemFailure)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(resp)
}

func (d *devTSA) reject(w http.ResponseWriter, code int, fi timestamp.FailureInfo) {
	resp, err := timestamp.CreateErrorResponse(timestamp.Rejection, fi)
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
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{tsaOIDTimeStamping})
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
		ExtraExtensions:       []pkix.Extension{{Id: tsaOIDExtKeyUsage, Critical: true, Value: eku}},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, pub, issuerKey)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "TSA certificate: %v", err)
	}
	return x509.ParseCertificate(der)
}
