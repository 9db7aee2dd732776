package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certify"
)

// Signing outside the service over the JSON API (issue 14; flow in signer/EXTERNAL.md):
//
//	POST /api/v1/certifications  signing=external   → 202 {…entry, step, expires_at, to_sign}
//	GET  /api/v1/certifications/{id}/to-sign         → 200 the same (what is awaited now)
//	POST /api/v1/certifications/{id}/signature       → 202 the seal's to_sign, or 201 issued
//
// The officer's step is completed by the officer of the entry (their token or session), the
// seal's by a records clerk (a clerk's token) or the unit administrator of the same unit.

// maxSignatureBody bounds the JSON of a signature: the value and a certificate chain.
const maxSignatureBody = 256 << 10

// hashOID is the OID of SHA-256, as CSC signatures/signHash names the hash algorithm.
const hashOID = "2.16.840.1.101.3.4.2.1"

// awaitingJSON is the API's view of an entry waiting for a signature made outside.
func (s *Server) awaitingJSON(a *certify.Awaiting) map[string]any {
	m := s.certificationJSON(a.Certification)
	m["step"] = a.Step
	m["expires_at"] = a.ExpiresAt.In(chungthuc.Vietnam).Format(time.RFC3339)
	m["signature_url"] = "/api/v1/certifications/" + itoa(a.Certification.ID) + "/signature"
	ts := a.ToSign
	m["to_sign"] = map[string]any{
		"digest":                  base64.StdEncoding.EncodeToString(ts.Digest),
		"digest_algorithm":        ts.DigestAlgorithm,
		"digest_algorithm_oid":    hashOID,
		"signature_algorithm":     ts.SignatureAlgorithm,
		"signature_algorithm_oid": ts.SignatureAlgorithmOID,
		"signed_attributes":       base64.StdEncoding.EncodeToString(ts.SignedAttrs),
		"certificate":             base64.StdEncoding.EncodeToString(ts.Certificate),
	}
	return m
}

// writeAwaiting answers 202 with what entry a waits for.
func (s *Server) writeAwaiting(w http.ResponseWriter, a *certify.Awaiting) {
	w.Header().Set("Location", "/api/v1/certifications/"+itoa(a.Certification.ID))
	writeJSON(w, http.StatusAccepted, s.awaitingJSON(a))
}

// entryID is the {id} of the route; ENOTFOUND when it is not a positive integer.
func entryID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, bi(chungthuc.ENOTFOUND, "Không tìm thấy mục này trong sổ chứng thực của đơn vị.", "This entry is not in your unit's register.")
	}
	return id, nil
}

// apiToSign: GET /api/v1/certifications/{id}/to-sign — what entry {id} of the caller's
// unit waits for (200, the body of the 202), or 409 when it waits for nothing.
func (s *Server) apiToSign(w http.ResponseWriter, r *http.Request) {
	id, err := entryID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	a, err := s.Certify.ToSignOf(r.Context(), who(r).UnitID, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.awaitingJSON(a))
}

// signatureBody is what a device sends back: the signature value over to_sign.digest and,
// optionally, the signer's certificate chain (leaf first; base64 DER or PEM each).
type signatureBody struct {
	Signature        string   `json:"signature"`
	CertificateChain []string `json:"certificate_chain"`
}

// apiSignature: POST /api/v1/certifications/{id}/signature — completes the awaited step.
func (s *Server) apiSignature(w http.ResponseWriter, r *http.Request) {
	id, err := entryID(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	sig, err := readSignature(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	p := who(r)
	sig.UnitID, sig.ID = p.UnitID, id
	sig.Actor = certify.Actor{OfficerID: p.OfficerID, Role: p.Role, Name: p.actor()}
	next, out, err := s.Certify.CompleteSignature(r.Context(), sig)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if next != nil {
		s.writeAwaiting(w, next)
		return
	}
	s.metrics.count("chungthuc_certifications_total", `outcome="ok"`)
	m := s.certificationJSON(out.Certification)
	m["access_code"] = out.AccessCode
	m["dropped"] = append([]string{}, out.Dropped...)
	w.Header().Set("Location", "/api/v1/certifications/"+itoa(out.Certification.ID))
	writeJSON(w, http.StatusCreated, m)
}

// readSignature decodes the JSON body of a signature. EINVALID for anything malformed.
func readSignature(w http.ResponseWriter, r *http.Request) (certify.Signature, error) {
	var b signatureBody
	r.Body = http.MaxBytesReader(w, r.Body, maxSignatureBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return certify.Signature{}, bi(chungthuc.EINVALID, "Nội dung gửi lên không phải JSON {\"signature\": …} hợp lệ.", "The body is not a valid JSON {\"signature\": …}.")
	}
	v, err := decodeB64(b.Signature)
	if err != nil || len(v) == 0 {
		return certify.Signature{}, bi(chungthuc.EINVALID, "Thiếu chữ ký số (signature, base64).", "The signature value (signature, base64) is missing or not base64.")
	}
	sig := certify.Signature{Value: v}
	for _, c := range b.CertificateChain {
		data := []byte(c)
		if !strings.Contains(c, "-----BEGIN") {
			if data, err = decodeB64(c); err != nil {
				return certify.Signature{}, bi(chungthuc.EINVALID, "Chuỗi chứng thư (certificate_chain) phải là base64 DER hoặc PEM.", "certificate_chain entries must be base64 DER or PEM.")
			}
		}
		certs, err := certify.ParseCertificates(data)
		if err != nil {
			return certify.Signature{}, err
		}
		sig.Chain = append(sig.Chain, certs...)
	}
	return sig, nil
}

// decodeB64 accepts standard or URL-safe base64, padded or not.
func decodeB64(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if v, err := base64.StdEncoding.DecodeString(s); err == nil {
		return v, nil
	}
	if v, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return v, nil
	}
	if v, err := base64.URLEncoding.DecodeString(s); err == nil {
		return v, nil
	}
	return base64.RawURLEncoding.DecodeString(s)
}
