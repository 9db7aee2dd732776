package verify

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/digitorus/timestamp"
)

// applyCMS turns the CMS outcome into checks and an indication.
func (e *engine) applyCMS(s *sigState) {
	c := s.cms
	s.rep.Signer = certInfo(c.signer)
	if c.hash != 0 {
		s.rep.DigestAlgorithm = c.hash.String()
	}
	s.rep.SignatureAlgorithm = c.sigAlg
	if !c.signingTime.IsZero() && s.rep.ClaimedSigningTime == nil {
		t := c.signingTime.UTC()
		s.rep.ClaimedSigningTime = &t
	}
	switch c.kind {
	case "":
		s.intact = true
		s.rep.Integrity = "intact"
		s.check("integrity", CheckPassed, "the %s digest of the signed bytes matches and the signature value verifies", c.hash)
	case cmsDigest:
		s.rep.Integrity = "broken"
		s.fail(TotalFailed, SubHashFailure, "integrity", "%v", c.err)
	case cmsSignature:
		s.rep.Integrity = "broken"
		s.fail(TotalFailed, SubSigCryptoFailure, "integrity", "%v", c.err)
	case cmsSignerNotFound:
		s.fail(Indeterminate, SubNoSigningCertificate, "signer", "%v", c.err)
	default:
		s.fail(TotalFailed, SubFormatFailure, "cms", "%v", c.err)
	}
	if len(c.weak) > 0 {
		s.fail(Indeterminate, SubCryptoConstraints, "algorithms", "weak algorithm rejected: %s", strings.Join(c.weak, ", "))
	} else if c.kind == "" {
		s.check("algorithms", CheckPassed, "%s", c.sigAlg)
	}
	if c.signer != nil {
		switch c.signingCert {
		case 1:
			s.check("signing_certificate", CheckPassed, "the signed ESS signing-certificate attribute names the signer's certificate")
		case -1:
			s.fail(Indeterminate, SubNoSigningCertificate, "signing_certificate", "the signed ESS signing-certificate attribute names another certificate")
		default:
			if s.rep.SubFilter == "ETSI.CAdES.detached" {
				s.fail(TotalFailed, SubFormatFailure, "signing_certificate", "a CAdES signature without the signing-certificate attribute")
			} else {
				s.check("signing_certificate", CheckSkipped, "no ESS signing-certificate attribute (not required for %s)", s.rep.SubFilter)
			}
		}
		if s.rep.SubFilter == "ETSI.CAdES.detached" && !c.signingTime.IsZero() {
			s.check("pades_profile", CheckWarning, "PAdES forbids the signingTime attribute; the time belongs in /M")
		}
	}
}

// checkTrust verifies the signature timestamp, the certificate chain and revocation.
func (e *engine) checkTrust(s *sigState) {
	c := s.cms
	// Timestamp first: a trusted timestamp is the proof of existence used for expiry and
	// revocation decisions.
	var poe time.Time
	if len(c.tsToken) > 0 {
		ti := e.checkTimestampToken(c.tsToken, c.sigValue)
		s.rep.Timestamp = ti
		switch {
		case ti.Valid && ti.Trusted:
			poe = ti.Time
			s.check("timestamp", CheckPassed, "signature timestamp at %s by a trusted TSA", ti.Time.Format(time.RFC3339))
			if s.rep.ClaimedSigningTime != nil && s.rep.ClaimedSigningTime.After(ti.Time.Add(5*time.Minute)) {
				s.fail(Indeterminate, SubTimestampOrder, "timestamp", "the claimed signing time is after the timestamp")
			}
		case ti.Valid:
			s.check("timestamp", CheckWarning, "signature timestamp at %s, but the TSA is not trusted: %s", ti.Time.Format(time.RFC3339), ti.Problem)
		default:
			s.fail(TotalFailed, SubFormatFailure, "timestamp", "the signature timestamp is invalid: %s", ti.Problem)
		}
	} else {
		s.check("timestamp", CheckSkipped, "no signature timestamp; the signing time is only claimed")
	}
	chain, trusted := e.buildChain(s, c.signer, c.certs, poe, x509.ExtKeyUsageAny)
	if !trusted {
		return
	}
	e.checkRevocation(s, chain, c.ocsps, c.crls, poe)
}

// buildChain verifies cert to a trust anchor and records the outcome on s. It returns the
// chain and whether it reached an anchor.
func (e *engine) buildChain(s *sigState, cert *x509.Certificate, certs []*x509.Certificate, poe time.Time, eku x509.ExtKeyUsage) ([]*x509.Certificate, bool) {
	chain, err, note := e.verifyChain(cert, certs, poe, eku)
	if err != nil {
		var ua x509.UnknownAuthorityError
		var ci x509.CertificateInvalidError
		switch {
		case errors.As(err, &ua), errors.Is(err, errNoRoots):
			s.fail(Indeterminate, SubNoCertificateChain, "chain", "the certificate does not chain to a configured trust anchor (%v)", err)
		case errors.As(err, &ci) && ci.Reason == x509.Expired:
			if cert.NotBefore.After(e.opt.Now()) {
				s.fail(Indeterminate, SubNotYetValid, "chain", "a certificate of the chain is not yet valid")
			} else {
				s.fail(Indeterminate, SubOutOfBoundsNoPOE, "chain", "a certificate of the chain has expired and no trusted timestamp proves the signature older (%v)", err)
			}
		default:
			s.fail(Indeterminate, SubChainGeneralFailure, "chain", "%v", err)
		}
		return nil, false
	}
	s.rep.Trusted = true
	for _, c := range chain {
		s.rep.Chain = append(s.rep.Chain, *certInfo(c))
	}
	s.check("chain", CheckPassed, "chains to trust anchor %s%s", chain[len(chain)-1].Subject, note)
	if t := s.rep.ClaimedSigningTime; t != nil && (t.Before(cert.NotBefore) || t.After(cert.NotAfter)) {
		s.check("signing_time", CheckWarning, "the claimed signing time %s is outside the certificate's validity", t.Format(time.RFC3339))
	}
	return chain, true
}

var errNoRoots = errors.New("no trust anchors configured")

// verifyChain builds a chain for cert at the validation time, or at poe when the
// certificate has expired since and a trusted timestamp proves the signature existed.
func (e *engine) verifyChain(cert *x509.Certificate, certs []*x509.Certificate, poe time.Time, eku x509.ExtKeyUsage) ([]*x509.Certificate, error, string) {
	var pools []*x509.CertPool
	if e.opt.Roots != nil {
		pools = append(pools, e.opt.Roots)
	}
	if e.opt.UseSystemRoots {
		if sys, err := x509.SystemCertPool(); err == nil {
			pools = append(pools, sys)
		}
	}
	if len(pools) == 0 {
		return nil, errNoRoots, ""
	}
	inter := x509.NewCertPool()
	for _, c := range certs {
		inter.AddCert(c)
	}
	if e.dss != nil {
		for _, c := range e.dss.certs {
			inter.AddCert(c)
		}
	}
	var firstErr error
	for _, roots := range pools {
		opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: e.opt.Now(), KeyUsages: []x509.ExtKeyUsage{eku}}
		chains, err := cert.Verify(opts)
		note := ""
		var ci x509.CertificateInvalidError
		if err != nil && errors.As(err, &ci) && ci.Reason == x509.Expired && !poe.IsZero() {
			opts.CurrentTime = poe
			if chains, err = cert.Verify(opts); err == nil {
				note = fmt.Sprintf(" (expired now; valid at the timestamp %s)", poe.Format(time.RFC3339))
			}
		}
		if err == nil {
			return chains[0], nil, note
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr, ""
}

// checkTimestampToken verifies an RFC 3161 token over imprinted (the signature value of
// a signature timestamp, or the signed bytes' digest of a document timestamp).
func (e *engine) checkTimestampToken(der []byte, imprinted []byte) *TimestampInfo {
	ti := &TimestampInfo{}
	ts, p7certs, tsa, err := parseToken(der)
	if err != nil {
		ti.Problem = err.Error()
		return ti
	}
	ti.Time = ts.Time.UTC()
	ti.TSA = certInfo(tsa)
	h := ts.HashAlgorithm
	if h == crypto.SHA1 || h == crypto.MD5 {
		ti.Problem = "the timestamp imprint uses " + h.String()
		return ti
	}
	hh := h.New()
	hh.Write(imprinted)
	if !bytes.Equal(hh.Sum(nil), ts.HashedMessage) {
		ti.Problem = "the timestamp is not over this signature"
		return ti
	}
	ti.Valid = true
	if w := weakKey(tsa); w != "" {
		ti.Valid = false
		ti.Problem = "TSA " + w
		return ti
	}
	if _, err, _ := e.verifyChain(tsa, p7certs, time.Time{}, x509.ExtKeyUsageTimeStamping); err != nil {
		ti.Problem = fmt.Sprintf("TSA chain: %v", err)
		return ti
	}
	ti.Trusted = true
	return ti
}

// parseToken parses and verifies the signature of a timestamp token, returning its TSA
// certificate.
func parseToken(der []byte) (ts *timestamp.Timestamp, certs []*x509.Certificate, tsa *x509.Certificate, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed timestamp token (%v)", r)
		}
	}()
	p7, err := safeParse(der)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("timestamp token: %v", err)
	}
	tsa = p7.GetOnlySigner()
	if tsa == nil {
		return nil, nil, nil, fmt.Errorf("timestamp token without its TSA certificate")
	}
	ts, err = timestamp.Parse(der) // verifies the token's CMS signature
	if err != nil {
		return nil, nil, nil, fmt.Errorf("timestamp token: %v", err)
	}
	if len(p7.Signers) == 1 && hashFor(p7.Signers[0].DigestAlgorithm.Algorithm) == crypto.SHA1 {
		return nil, nil, nil, fmt.Errorf("timestamp token signed with SHA-1")
	}
	return ts, p7.Certificates, tsa, nil
}

// checkDocTimestamp verifies a document timestamp (/SubFilter /ETSI.RFC3161).
func (e *engine) checkDocTimestamp(s *sigState, der []byte, digest func(crypto.Hash) []byte) {
	ts, certs, tsa, err := parseToken(der)
	if err != nil {
		s.rep.Integrity = "broken"
		s.fail(TotalFailed, SubSigCryptoFailure, "integrity", "%v", err)
		return
	}
	s.rep.Signer = certInfo(tsa)
	s.rep.DigestAlgorithm = ts.HashAlgorithm.String()
	t := ts.Time.UTC()
	s.rep.Timestamp = &TimestampInfo{Time: t, TSA: certInfo(tsa)}
	if !ts.HashAlgorithm.Available() || !bytes.Equal(digest(ts.HashAlgorithm), ts.HashedMessage) {
		s.rep.Integrity = "broken"
		s.fail(TotalFailed, SubHashFailure, "integrity", "the document timestamp's imprint does not match the signed bytes")
		return
	}
	s.intact = true
	s.rep.Integrity = "intact"
	s.rep.Timestamp.Valid = true
	s.check("integrity", CheckPassed, "the document timestamp imprint (%s) matches the signed bytes", ts.HashAlgorithm)
	if ts.HashAlgorithm == crypto.SHA1 || ts.HashAlgorithm == crypto.MD5 {
		s.fail(Indeterminate, SubCryptoConstraints, "algorithms", "weak algorithm rejected: %s", ts.HashAlgorithm)
	}
	if w := weakKey(tsa); w != "" {
		s.fail(Indeterminate, SubCryptoConstraints, "algorithms", "weak algorithm rejected: %s", w)
	}
	chain, trusted := e.buildChain(s, tsa, certs, time.Time{}, x509.ExtKeyUsageTimeStamping)
	s.rep.Timestamp.Trusted = trusted
	if trusted {
		e.checkRevocation(s, chain, nil, nil, t)
	}
}
