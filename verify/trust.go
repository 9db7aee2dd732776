package verify

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chungthuc/chungthuc/cms"
)

// failureOf maps a cms failure reason to an indication and sub-indication, and whether
// the signature is then known to be broken (as opposed to not checkable).
//
// An algorithm the verifier does not implement (ReasonUnsupportedAlg: DSA, Ed448,
// brainpool curves, PSS parameters crypto/rsa cannot verify, unknown OIDs) is outside its
// cryptographic constraints, like a weak one: INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE_NO_POE
// (ETSI EN 319 102-1 5.2.8), never FORMAT_FAILURE — the signature may well be intact.
func failureOf(r cms.Reason) (ind, sub string, broken bool) {
	switch r {
	case cms.ReasonDigestMismatch:
		return TotalFailed, SubHashFailure, true
	case cms.ReasonBadSignature:
		return TotalFailed, SubSigCryptoFailure, true
	case cms.ReasonWeakAlgorithm, cms.ReasonUnsupportedAlg:
		return Indeterminate, SubCryptoConstraints, false
	case cms.ReasonSignerNotFound, cms.ReasonSigningCertificate:
		return Indeterminate, SubNoSigningCertificate, false
	}
	// ReasonMalformed, ReasonTooLarge, ReasonUnsupported.
	return TotalFailed, SubFormatFailure, false
}

// checkName names the check a cms failure reason is reported under.
func checkName(r cms.Reason) string {
	switch r {
	case cms.ReasonDigestMismatch, cms.ReasonBadSignature:
		return "integrity"
	case cms.ReasonWeakAlgorithm, cms.ReasonUnsupportedAlg:
		return "algorithms"
	case cms.ReasonSignerNotFound:
		return "signer"
	case cms.ReasonSigningCertificate:
		return "signing_certificate"
	}
	return "cms"
}

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
	if c.reason == "" {
		s.intact = true
		s.rep.Integrity = "intact"
		s.check("integrity", CheckPassed, "the %s digest of the signed bytes matches and the signature value verifies", c.hash)
	} else {
		ind, sub, broken := failureOf(c.reason)
		if broken {
			s.rep.Integrity = "broken"
		}
		s.fail(ind, sub, checkName(c.reason), "%v", c.err)
	}
	if len(c.weak) > 0 {
		s.fail(Indeterminate, SubCryptoConstraints, "algorithms", "weak algorithm rejected: %s", strings.Join(c.weak, ", "))
	} else if c.reason == "" {
		s.check("algorithms", CheckPassed, "%s", c.sigAlg)
	}
	for _, n := range c.notes {
		s.check("cms", CheckWarning, "%s", n)
	}
	if c.signer != nil {
		switch c.signingCert {
		case 1:
			s.check("signing_certificate", CheckPassed, "the signed ESS signing-certificate attribute names the signer's certificate")
		case -1, 2:
			// Reported by the failure above.
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

// checkDocTimestamp verifies the integrity of a document time-stamp (/SubFilter
// /ETSI.RFC3161): the token itself and its imprint over the signed bytes. Trust (the TSA
// chain at the right time) is decided later, by checkDocTimestampTrust.
func (e *engine) checkDocTimestamp(s *sigState, der []byte, digest func(crypto.Hash) []byte) {
	tok, err := parseTimestamp(der)
	s.rep.Signer = certInfo(tok.tsa)
	if err != nil {
		ind, sub, broken := failureOf(tok.reason)
		if broken {
			s.rep.Integrity = "broken"
		}
		s.fail(ind, sub, checkName(tok.reason), "document time-stamp: %v", err)
		return
	}
	s.rep.DigestAlgorithm = tok.hash.String()
	s.rep.SignatureAlgorithm = sigAlgName(tok.tsa, tok.hash)
	s.rep.Timestamp = &TimestampInfo{Time: tok.time, TSA: certInfo(tok.tsa)}
	if got := digest(tok.hash); string(got) != string(tok.imprint) {
		s.rep.Integrity = "broken"
		s.fail(TotalFailed, SubHashFailure, "integrity", "the document time-stamp's imprint does not match the signed bytes")
		return
	}
	s.intact = true
	s.token = tok
	s.rep.Integrity = "intact"
	s.rep.Timestamp.Valid = true
	s.check("integrity", CheckPassed, "the document time-stamp's imprint (%s) matches the signed bytes and the token's signature verifies", tok.hash)
}

// validateTimes decides trust for every intact signature and time-stamp, in the order
// long-term validation needs: document time-stamps from the last to the first (each is
// checked at the time proven by the next one, the last at the validation time), then the
// signatures, each at the earliest time a trusted time-stamp proves it existed.
func (e *engine) validateTimes() {
	for i := len(e.sigs) - 1; i >= 0; i-- {
		if s := e.sigs[i]; s.docTS && s.intact {
			e.checkDocTimestampTrust(s)
		}
	}
	for _, s := range e.sigs {
		if !s.docTS && s.intact {
			e.checkTrust(s)
		}
	}
}

// archivePOE returns the earliest time proven by a passed document time-stamp whose
// signed bytes include all of s (its revision and /Contents), and that time-stamp.
func (e *engine) archivePOE(s *sigState) (time.Time, *sigState) {
	var best time.Time
	var by *sigState
	for _, d := range e.sigs {
		if d == s || !d.docTS || !d.ltvOK || d.removed || d.br[1] < s.end {
			continue
		}
		if by == nil || d.token.time.Before(best) {
			best, by = d.token.time, d
		}
	}
	return best, by
}

// checkDocTimestampTrust validates the TSA of a document time-stamp at the time proven by
// a later document time-stamp, or at the validation time when none covers it (archive
// renewal chain, ETSI EN 319 102-1 5.6.2.4). A passed one proves everything it covers.
func (e *engine) checkDocTimestampTrust(s *sigState) {
	tok := s.token
	now := e.opt.Now()
	at, by := e.archivePOE(s)
	proven := by != nil
	if !proven {
		at = now
	} else {
		s.rep.Timestamp.ProvenBy = by.rep.Index
	}
	t := at.UTC()
	s.rep.Timestamp.ValidatedAt = &t
	s.rep.ValidationTime = &t
	chain, trusted := e.buildChain(s, tok.tsa, tok.certs, at, proven, x509.ExtKeyUsageTimeStamping)
	s.rep.Timestamp.Trusted = trusted
	if !trusted {
		if !proven {
			s.check("archive", CheckFailed, "this is the last document time-stamp: it must be verifiable at the validation time %s; add a new document time-stamp (renewal) before its TSA certificate expires", now.UTC().Format(time.RFC3339))
		}
		return
	}
	e.checkRevocation(s, chain, nil, nil, revRef{at: at, proven: proven, claimed: tok.time})
	s.ltvOK = s.rep.Indication == TotalPassed
	if s.ltvOK {
		if proven {
			s.check("archive", CheckPassed, "TSA certificate checked at %s, proven by document time-stamp %d", t.Format(time.RFC3339), by.rep.Index)
		} else {
			s.check("archive", CheckPassed, "TSA certificate valid at the validation time %s", t.Format(time.RFC3339))
		}
	}
}

// checkTrust verifies the signature time-stamp, the certificate chain and revocation of a
// signature, at its best signature time: the earliest time a trusted time-stamp proves
// it existed (its own signature time-stamp, or a document time-stamp covering it), else
// the validation time.
func (e *engine) checkTrust(s *sigState) {
	c := s.cms
	now := e.opt.Now()
	archiveAt, archiveBy := e.archivePOE(s)
	var poe time.Time
	poeSource := ""
	if len(c.tsToken) > 0 {
		ti, tsReason := e.checkSignatureTimestamp(c.tsToken, c.sigValue, archiveAt, archiveBy)
		s.rep.Timestamp = ti
		switch {
		case ti.Valid && ti.Trusted:
			poe, poeSource = ti.Time, "signature_timestamp"
			how := "valid at the validation time"
			if ti.ProvenBy > 0 {
				how = fmt.Sprintf("checked at %s, proven by document time-stamp %d", ti.ValidatedAt.Format(time.RFC3339), ti.ProvenBy)
			}
			s.check("timestamp", CheckPassed, "signature time-stamp at %s by a trusted TSA (%s)", ti.Time.Format(time.RFC3339), how)
			if s.rep.ClaimedSigningTime != nil && s.rep.ClaimedSigningTime.After(ti.Time.Add(5*time.Minute)) {
				s.fail(Indeterminate, SubTimestampOrder, "timestamp", "the claimed signing time is after the time-stamp")
			}
		case ti.Valid:
			s.check("timestamp", CheckWarning, "signature time-stamp at %s, but it proves nothing: %s", ti.Time.Format(time.RFC3339), ti.Problem)
		case undecidable(tsReason):
			// The token cannot be validated here (no TSA certificate, a weak or
			// unsupported algorithm) but nothing says it is false: the signature,
			// intact, is INDETERMINATE rather than FAILED (ETSI EN 319 102-1 5.4).
			_, sub, _ := failureOf(tsReason)
			s.fail(Indeterminate, sub, "timestamp", "the signature time-stamp cannot be validated: %s", ti.Problem)
		default:
			s.fail(TotalFailed, SubFormatFailure, "timestamp", "the signature time-stamp is invalid: %s", ti.Problem)
		}
	} else {
		s.check("timestamp", CheckSkipped, "no signature time-stamp; the signing time is only claimed")
	}
	if archiveBy != nil && (poe.IsZero() || archiveAt.Before(poe)) {
		poe, poeSource = archiveAt, fmt.Sprintf("document_timestamp:%d", archiveBy.rep.Index)
	}
	at := now
	if !poe.IsZero() {
		p := poe.UTC()
		s.rep.BestSignatureTime, s.rep.POESource = &p, poeSource
		if poe.Before(now) {
			at = poe
		}
	}
	t := at.UTC()
	s.rep.ValidationTime = &t
	chain, trusted := e.buildChain(s, c.signer, c.certs, at, !poe.IsZero(), x509.ExtKeyUsageAny)
	if !trusted {
		return
	}
	var claimed time.Time
	if s.rep.ClaimedSigningTime != nil {
		claimed = *s.rep.ClaimedSigningTime
	}
	e.checkRevocation(s, chain, c.ocsps, c.crls, revRef{at: at, proven: !poe.IsZero(), claimed: claimed})
}

// checkSignatureTimestamp verifies an RFC 3161 signature time-stamp over sigValue (the
// signature value it must stamp). Its TSA is checked at archiveAt when a document
// time-stamp proves the token existed then, else at the validation time. When the token
// is not valid, reason classifies why: undecidable reasons (see undecidable) only when
// its imprint, where it can be read, does cover sigValue; a token over something else is
// a false one whatever else is wrong with it.
func (e *engine) checkSignatureTimestamp(der, sigValue []byte, archiveAt time.Time, archiveBy *sigState) (ti *TimestampInfo, reason cms.Reason) {
	ti = &TimestampInfo{}
	tok, err := parseTimestamp(der)
	if tok.tsa != nil {
		ti.TSA = certInfo(tok.tsa)
	}
	ti.Time = tok.time
	if err != nil {
		ti.Problem = err.Error()
		if undecidable(tok.reason) && tok.tok.Info != nil && tok.hash != 0 && !tok.covers(sigValue) {
			ti.Problem = "the time-stamp is not over this signature's value (" + err.Error() + ")"
			return ti, cms.ReasonDigestMismatch
		}
		return ti, tok.reason
	}
	if !tok.covers(sigValue) {
		ti.Problem = "the time-stamp is not over this signature's value"
		return ti, cms.ReasonDigestMismatch
	}
	ti.Valid = true
	at, proven := e.opt.Now(), false
	if archiveBy != nil {
		at, proven = archiveAt, true
		ti.ProvenBy = archiveBy.rep.Index
	}
	t := at.UTC()
	ti.ValidatedAt = &t
	// The TSA's chain and revocation are checked on a scratch signature state: a TSA
	// that cannot be trusted costs the signature its proof of time, not its validity.
	tmp := &sigState{rep: &SignatureReport{Indication: TotalPassed}}
	chain, ok := e.buildChain(tmp, tok.tsa, tok.certs, at, proven, x509.ExtKeyUsageTimeStamping)
	if ok {
		e.checkRevocation(tmp, chain, nil, nil, revRef{at: at, proven: proven, claimed: tok.time})
	}
	if tmp.rep.Indication != TotalPassed {
		for _, c := range tmp.rep.Checks {
			if c.Status == CheckFailed {
				ti.Problem = fmt.Sprintf("TSA at %s: %s", t.Format(time.RFC3339), c.Detail)
				break
			}
		}
		return ti, ""
	}
	ti.Trusted = true
	return ti, ""
}

// buildChain verifies cert to a trust anchor at time at and records the outcome on s.
// proven says whether at is a time proven by a time-stamp (else it is the validation
// time). It returns the chain and whether it reached an anchor.
func (e *engine) buildChain(s *sigState, cert *x509.Certificate, certs []*x509.Certificate, at time.Time, proven bool, eku x509.ExtKeyUsage) ([]*x509.Certificate, bool) {
	chain, err := e.verifyChain(cert, certs, at, eku)
	if err != nil {
		var ua x509.UnknownAuthorityError
		var ci x509.CertificateInvalidError
		switch {
		case errors.As(err, &ua), errors.Is(err, errNoRoots):
			s.fail(Indeterminate, SubNoCertificateChain, "chain", "the certificate does not chain to a configured trust anchor (%v)", err)
		case errors.As(err, &ci) && ci.Reason == x509.Expired:
			if cert.NotBefore.After(at) {
				s.fail(Indeterminate, SubNotYetValid, "chain", "a certificate of the chain is not yet valid at %s", at.UTC().Format(time.RFC3339))
			} else if proven {
				s.fail(Indeterminate, SubOutOfBoundsNoPOE, "chain", "a certificate of the chain was already outside its validity at the proven time %s (%v)", at.UTC().Format(time.RFC3339), err)
			} else {
				s.fail(Indeterminate, SubOutOfBoundsNoPOE, "chain", "a certificate of the chain is outside its validity at %s and no trusted time-stamp proves an earlier time (%v)", at.UTC().Format(time.RFC3339), err)
			}
		default:
			s.fail(Indeterminate, SubChainGeneralFailure, "chain", "%v", err)
		}
		return nil, false
	}
	s.rep.Trusted = true
	s.rep.Chain = s.rep.Chain[:0]
	for _, c := range chain {
		s.rep.Chain = append(s.rep.Chain, *certInfo(c))
	}
	when := "at the validation time"
	if proven {
		when = "at the proven time"
	}
	s.check("chain", CheckPassed, "chains to trust anchor %s, valid %s %s", chain[len(chain)-1].Subject, when, at.UTC().Format(time.RFC3339))
	if t := s.rep.ClaimedSigningTime; t != nil && (t.Before(cert.NotBefore) || t.After(cert.NotAfter)) {
		s.check("signing_time", CheckWarning, "the claimed signing time %s is outside the certificate's validity", t.Format(time.RFC3339))
	}
	return chain, true
}

var errNoRoots = errors.New("no trust anchors configured")

// verifyChain builds a chain for cert, valid at time at, to a configured anchor.
// Intermediates come from the signature's certificates and the DSS.
func (e *engine) verifyChain(cert *x509.Certificate, certs []*x509.Certificate, at time.Time, eku x509.ExtKeyUsage) ([]*x509.Certificate, error) {
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
		return nil, errNoRoots
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
		chains, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{eku}})
		if err == nil {
			return chains[0], nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, firstErr
}
