package devpki

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// devOCSPValidity is how long a dev OCSP answer is valid (nextUpdate − thisUpdate).
const devOCSPValidity = time.Hour

// devOCSPMaxRequest caps the size of an OCSP request.
const devOCSPMaxRequest = 16 << 10

type devOCSP struct {
	issuer *x509.Certificate
	signer crypto.Signer
	status func(serial *big.Int) (revoked bool, at time.Time, reason int)
	now    func() time.Time
	keyOK  bool
}

// NewOCSPResponder returns an RFC 6960 OCSP responder over HTTP for certificates issued
// by issuer, answering for the first certificate of each request. For development and
// tests: it answers "good" for every serial number status does not report revoked,
// including serials issuer never issued.
//
// signer must be issuer's own key (the responder is the CA itself, so no delegated
// responder certificate is needed); if it is not, every request gets internalError.
// status reports, for a serial number, whether it is revoked, since when and why (a CRL
// reason code, RFC 5280 section 5.3.1). now defaults to time.Now. Each answer is valid
// for one hour from now() truncated to the minute (not after its producedAt); nonces in requests are not echoed (RFC 5019 style).
//
// Requests: POST with Content-Type application/ocsp-request, or GET with the URL-escaped
// base64 of the DER request as the path (RFC 6960 appendix A.1) — mount the handler at the
// root of its server or under http.StripPrefix. Answers (application/ocsp-response): 200
// with a signed response; 200 with unauthorized when the request names another issuer;
// 400 with malformedRequest when the request cannot be parsed; 405 for other methods;
// 413 for requests over 16 KiB; 415 for a POST of another content type; 500 with
// internalError when signing fails. GET answers carry caching headers up to nextUpdate.
func NewOCSPResponder(issuer *x509.Certificate, signer crypto.Signer, status func(serial *big.Int) (revoked bool, at time.Time, reason int), now func() time.Time) http.Handler {
	if now == nil {
		now = time.Now
	}
	keyOK := false
	if issuer != nil && signer != nil {
		if pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool }); ok {
			keyOK = pub.Equal(issuer.PublicKey)
		}
	}
	return &devOCSP{issuer: issuer, signer: signer, status: status, now: now, keyOK: keyOK}
}

func (o *devOCSP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var der []byte
	switch r.Method {
	case http.MethodGet:
		b64 := strings.TrimPrefix(r.URL.Path, "/")
		var err error
		der, err = base64.StdEncoding.DecodeString(b64)
		if err != nil || len(der) > devOCSPMaxRequest {
			o.write(w, r, http.StatusBadRequest, ocsp.MalformedRequestErrorResponse, time.Time{}, time.Time{})
			return
		}
	case http.MethodPost:
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/ocsp-request" {
			http.Error(w, "Content-Type must be application/ocsp-request", http.StatusUnsupportedMediaType)
			return
		}
		var err error
		der, err = io.ReadAll(http.MaxBytesReader(w, r.Body, devOCSPMaxRequest))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				http.Error(w, "OCSP request too large", http.StatusRequestEntityTooLarge)
				return
			}
			o.write(w, r, http.StatusBadRequest, ocsp.MalformedRequestErrorResponse, time.Time{}, time.Time{})
			return
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "OCSP requests are GET or POST", http.StatusMethodNotAllowed)
		return
	}

	req, err := ocsp.ParseRequest(der)
	if err != nil {
		o.write(w, r, http.StatusBadRequest, ocsp.MalformedRequestErrorResponse, time.Time{}, time.Time{})
		return
	}
	if !o.keyOK || o.status == nil {
		slog.Error("dev OCSP responder: signer is not the issuer's key, or no status function")
		o.write(w, r, http.StatusInternalServerError, ocsp.InternalErrorErrorResponse, time.Time{}, time.Time{})
		return
	}
	if !ocspIssuerMatches(req, o.issuer) {
		o.write(w, r, http.StatusOK, ocsp.UnauthorizedErrorResponse, time.Time{}, time.Time{})
		return
	}

	// x/crypto/ocsp stamps producedAt with the current time truncated to the minute;
	// thisUpdate must not be later than producedAt, or NSS (pdfsig, Firefox) rejects the
	// answer as "not yet valid" ("Unknown issue with Certificate" in pdfsig).
	thisUpdate := o.now().UTC().Truncate(time.Minute)
	tmpl := ocsp.Response{
		Status:       ocsp.Good,
		SerialNumber: req.SerialNumber,
		ThisUpdate:   thisUpdate,
		NextUpdate:   thisUpdate.Add(devOCSPValidity),
		IssuerHash:   req.HashAlgorithm,
	}
	if revoked, at, reason := o.status(req.SerialNumber); revoked {
		tmpl.Status = ocsp.Revoked
		tmpl.RevokedAt = at.UTC().Truncate(time.Second)
		tmpl.RevocationReason = reason
	}
	resp, err := ocsp.CreateResponse(o.issuer, o.issuer, tmpl, o.signer)
	if err != nil {
		slog.Error("dev OCSP responder: signing failed", "err", err)
		o.write(w, r, http.StatusInternalServerError, ocsp.InternalErrorErrorResponse, time.Time{}, time.Time{})
		return
	}
	o.write(w, r, http.StatusOK, resp, tmpl.ThisUpdate, tmpl.NextUpdate)
}

func (o *devOCSP) write(w http.ResponseWriter, r *http.Request, code int, body []byte, thisUpdate, nextUpdate time.Time) {
	h := w.Header()
	h.Set("Content-Type", "application/ocsp-response")
	if r.Method == http.MethodGet && !nextUpdate.IsZero() {
		// RFC 5019 section 6: GET answers may be cached until nextUpdate.
		maxAge := max(int(time.Until(nextUpdate).Seconds()), 0)
		h.Set("Cache-Control", fmt.Sprintf("max-age=%d, public, no-transform, must-revalidate", maxAge))
		h.Set("Last-Modified", thisUpdate.Format(http.TimeFormat))
		h.Set("Expires", nextUpdate.Format(http.TimeFormat))
	} else {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// ocspIssuerMatches reports whether the request's CertID names issuer (hashes of its
// subject and of its public key, with the request's hash algorithm).
func ocspIssuerMatches(req *ocsp.Request, issuer *x509.Certificate) bool {
	if !req.HashAlgorithm.Available() {
		return false
	}
	var spki struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return false
	}
	h := req.HashAlgorithm.New()
	h.Write(issuer.RawSubject)
	if !bytes.Equal(h.Sum(nil), req.IssuerNameHash) {
		return false
	}
	h.Reset()
	h.Write(spki.PublicKey.RightAlign())
	return bytes.Equal(h.Sum(nil), req.IssuerKeyHash)
}
