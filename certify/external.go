package certify

// Signing outside the service (issue 14): the officer signs with a personal device (a USB
// token through the local signing agent, a remote-signing service over CSC) and the records
// clerk applies the unit's seal with the unit's device. The keys are never here.
//
//	out, _ := s.Certify(ctx, Input{…, Signing: SigningExternal})   // number reserved; out.Awaiting
//	sig := officerDevice.Sign(out.Awaiting.ToSign.Digest)
//	next, _, _ := s.CompleteSignature(ctx, Signature{UnitID, ID, Actor: officer, Value: sig})
//	sig = clerkDevice.Sign(next.ToSign.Digest)                      // next.Step == StepSeal
//	_, issued, _ := s.CompleteSignature(ctx, Signature{…, Actor: clerk, Value: sig})
//
// Between the steps the entry is Pending with an open chungthuc.SignatureWait that holds
// the prepared file and what the next step needs (waitState, JSON), so any instance can
// continue it after a restart. A wait past its deadline is voided with a reason
// (ExpireWaits, run by serve's periodic check, and CompleteSignature itself); the number
// stays in the register as void. fsck's Repair leaves waiting entries alone.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/certs"
	"github.com/chungthuc/chungthuc/signer"
)

// Signing modes of Input.Signing.
const (
	SigningServer   = "server"   // the key store's keys, in one step (MakeCopy)
	SigningExternal = "external" // the officer's device, then the clerk's seal
)

// DefaultSignatureTimeout is how long an entry waits for each external signature when
// Service.SignatureTimeout is 0.
const DefaultSignatureTimeout = 24 * time.Hour

// ExternalSigner is the two-step signer (*signer.Signer): prepare a signature, complete it
// with a value made elsewhere. See signer/EXTERNAL.md.
type ExternalSigner interface {
	PrepareCopy(ctx context.Context, in chungthuc.CopyRequest) (*signer.Pending, error)
	PrepareSeal(ctx context.Context, sd *signer.Signed, seal []*x509.Certificate, at time.Time) (*signer.Pending, error)
	Complete(ctx context.Context, p *signer.Pending, sig []byte, chain []*x509.Certificate) (*signer.Signed, *chungthuc.Copy, error)
}

var _ ExternalSigner = (*signer.Signer)(nil)

// ToSign is what the device signs: Digest (the SHA-256 of SignedAttrs) for devices and
// services that sign a hash (CSC signatures/signHash with hashAlgo
// 2.16.840.1.101.3.4.2.1), SignedAttrs for those that sign data.
type ToSign struct {
	Digest          []byte
	DigestAlgorithm string // "SHA-256"
	// SignatureAlgorithm names the signature the certificate's key must make:
	// "sha256WithRSAEncryption" (RSASSA-PKCS1-v1_5 over the SHA-256 DigestInfo) or
	// "ecdsa-with-SHA256" (DER or raw r||s); SignatureAlgorithmOID is its OID (CSC signAlgo).
	SignatureAlgorithm    string
	SignatureAlgorithmOID string
	SignedAttrs           []byte
	// Certificate is the DER of the registered certificate expected to sign.
	Certificate []byte
}

// Awaiting is an entry waiting for a signature made outside the service.
type Awaiting struct {
	Certification *chungthuc.Certification
	Step          chungthuc.SignatureStep // StepOfficerSignature or StepSeal
	ExpiresAt     time.Time
	ToSign        ToSign
}

// Actor is who completes a step: the officer (OfficerID, the officer record the request
// is authenticated as) or, for the seal, a records clerk or unit administrator of the unit.
type Actor struct {
	OfficerID int64
	Role      chungthuc.Role
	Name      string // for the audit log: "token:3", "account:7"
}

// Signature is a signature value made outside the service for entry ID of unit UnitID.
type Signature struct {
	UnitID int64
	ID     int64
	Actor  Actor
	Value  []byte
	// Chain is the signer's certificate chain, leaf first; empty = the registered one.
	// The leaf must be the registered certificate.
	Chain []*x509.Certificate
}

// StepError is a refused step of external signing: its code is the chungthuc code
// (EINVALID, EFORBIDDEN, ECONFLICT, …) and Reason says which refusal, for clients:
// ReasonSignatureInvalid, ReasonCertificate, ReasonRole, ReasonStep, ReasonExpired,
// ReasonNotWaiting.
type StepError struct {
	Reason string
	err    *chungthuc.Error
}

// Reasons of a StepError.
const (
	ReasonSignatureInvalid = "signature_invalid"         // not a signature over the digest by the registered key
	ReasonCertificate      = "certificate_refused"       // not the registered certificate, expired, revoked
	ReasonRole             = "role_not_allowed"          // not the officer (officer step) / not a clerk (seal)
	ReasonStep             = "wrong_step"                // the entry waits for the other step
	ReasonExpired          = "expired"                   // the wait passed its deadline: the entry is void
	ReasonNotWaiting       = "not_waiting"               // issued, void, or never signed outside
	ReasonNoCertificate    = "no_registered_certificate" // the officer or unit has no registered certificate
)

func (e *StepError) Error() string { return e.err.Error() }

// Unwrap gives the *chungthuc.Error with the message for the client.
func (e *StepError) Unwrap() error { return e.err }

func stepErr(reason, code, vi, en string) *StepError {
	return &StepError{Reason: reason, err: &chungthuc.Error{Code: code, Message: vi + " (" + en + ")"}}
}

// signingMode resolves Input.Signing against the unit's default.
func signingMode(mode string, u *chungthuc.Unit) (bool, error) {
	switch mode {
	case "":
		return u.ExternalSigning, nil
	case SigningServer:
		return false, nil
	case SigningExternal:
		return true, nil
	}
	return false, chungthuc.Errorf(chungthuc.EINVALID, "signing must be %q or %q, not %q", SigningServer, SigningExternal, mode)
}

// ParseCertificates reads certificates given as PEM (any number of blocks) or one DER
// certificate, leaf first. EINVALID when there is none or one cannot be read.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	if bytes.Contains(data, []byte("-----BEGIN")) {
		return certs.ParseCertificatePEM(data)
	}
	c, err := x509.ParseCertificate(data)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "no certificate could be read")
	}
	return []*x509.Certificate{c}, nil
}

// chainOf is the registered certificate (PEM) with its chain.
func (s *Service) chainOf(certPEM []byte) ([]*x509.Certificate, error) {
	certs, err := ParseCertificates(certPEM)
	if err != nil {
		return nil, err
	}
	if len(certs) == 1 && s.CertificateChain != nil {
		return s.CertificateChain(certs[0])
	}
	return certs, nil
}

func (s *Service) timeout() time.Duration {
	if s.SignatureTimeout > 0 {
		return s.SignatureTimeout
	}
	return DefaultSignatureTimeout
}

// startExternal reserves the number, prepares the officer's signature and records the wait.
func (s *Service) startExternal(ctx context.Context, in Input, rq *request) (*Output, error) {
	if s.External == nil {
		return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "signing outside the service is not configured here")
	}
	if len(rq.officer.CertPEM) == 0 {
		return nil, stepErr(ReasonNoCertificate, chungthuc.ECONFLICT,
			"Người thực hiện chứng thực chưa đăng ký chứng thư số của thiết bị ký riêng (chungthuc officer cert)",
			"the officer has no registered certificate of a personal signing device: chungthuc officer cert")
	}
	chain, err := s.chainOf(rq.officer.CertPEM)
	if err != nil {
		return nil, err
	}
	var scans []object
	if in.KeepScans {
		scans = scanObjects(in.Scans)
		for _, o := range scans {
			rq.scanKeys = append(rq.scanKeys, o.key)
		}
	}
	req, err := rq.copyRequest(s, in)
	if err != nil {
		return nil, err
	}
	req.Officer = &chungthuc.SigningKey{Chain: chain}
	p, err := s.External.PrepareCopy(ctx, req)
	if err != nil {
		return rq.failed(ctx, s, in, err)
	}
	entry := rq.entry
	// The scans go to the store now (content-addressed, their keys recorded with the entry
	// when it was reserved): the state then holds only keys.
	for _, o := range scans {
		if _, err := s.Objects.Put(ctx, o.key, bytes.NewReader(o.data), int64(len(o.data)), o.sum); err != nil {
			s.void(entry, voidReason(o.step, err))
			return nil, &chungthuc.Error{Code: chungthuc.ErrorCode(err), Message: voidReason(o.step, err)}
		}
	}
	st := &waitState{Pending: p, ScanKeys: rq.scanKeys, AccessCode: rq.code, scans: map[string][]byte{}}
	for _, o := range scans {
		st.scans[o.key] = o.data
		s.scanCache.put(o.key, o.data)
	}
	w, err := s.await(ctx, entry.ID, chungthuc.StepOfficerSignature, st, "officer:"+strconv.FormatInt(rq.officer.ID, 10))
	if err != nil {
		s.void(entry, voidReason(stepSign, err))
		return nil, err
	}
	return &Output{Certification: entry, VerifyURL: s.VerifyURL(rq.token), Dropped: p.Copy.Dropped,
		Awaiting: awaiting(entry, w, p)}, nil
}

// await records the wait for step with state st.
func (s *Service) await(ctx context.Context, id int64, step chungthuc.SignatureStep, st *waitState, actor string) (*chungthuc.SignatureWait, error) {
	data, err := st.marshal()
	if err != nil {
		return nil, err
	}
	w := &chungthuc.SignatureWait{CertificationID: id, Step: step, ExpiresAt: s.Now().Add(s.timeout()), State: data}
	if err := s.Register.AwaitSignature(ctx, w, actor); err != nil {
		return nil, err
	}
	return w, nil
}

func awaiting(c *chungthuc.Certification, w *chungthuc.SignatureWait, p *signer.Pending) *Awaiting {
	ts := ToSign{Digest: p.Digest, DigestAlgorithm: p.Algorithm, SignedAttrs: p.SignedAttrs, Certificate: p.Certificate}
	if cert, err := x509.ParseCertificate(p.Certificate); err == nil {
		switch cert.PublicKey.(type) {
		case *rsa.PublicKey:
			ts.SignatureAlgorithm, ts.SignatureAlgorithmOID = "sha256WithRSAEncryption", "1.2.840.113549.1.1.11"
		case *ecdsa.PublicKey:
			ts.SignatureAlgorithm, ts.SignatureAlgorithmOID = "ecdsa-with-SHA256", "1.2.840.10045.4.3.2"
		}
	}
	return &Awaiting{Certification: c, Step: w.Step, ExpiresAt: w.ExpiresAt, ToSign: ts}
}

// waiting reads entry id of unit unitID and its open wait. A wait past its deadline is
// voided here (the sweep may not have run yet): ReasonExpired.
func (s *Service) waiting(ctx context.Context, unitID, id int64) (*chungthuc.Certification, *chungthuc.SignatureWait, *waitState, error) {
	c, err := s.Register.CertificationByID(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	if c.UnitID != unitID {
		return nil, nil, nil, chungthuc.Errorf(chungthuc.ENOTFOUND, "certification %d not found", id)
	}
	w, err := s.Register.SignatureWait(ctx, id)
	if chungthuc.ErrorCode(err) == chungthuc.ENOTFOUND || (err == nil && w.Step == chungthuc.StepClosed) {
		return c, nil, nil, stepErr(ReasonNotWaiting, chungthuc.ECONFLICT,
			fmt.Sprintf("Mục số %d không chờ chữ ký số (tình trạng: %s)", c.Number, c.Status),
			fmt.Sprintf("entry %d does not wait for a signature; it is %s", c.Number, c.Status))
	} else if err != nil {
		return nil, nil, nil, err
	}
	if !s.Now().Before(w.ExpiresAt) {
		s.expire(ctx, c.ID, w.Step)
		return c, w, nil, stepErr(ReasonExpired, chungthuc.ECONFLICT,
			fmt.Sprintf("Đã hết thời hạn chờ ký; số %d đã bị hủy", c.Number),
			fmt.Sprintf("the wait for the signature expired; number %d was voided", c.Number))
	}
	st, err := unmarshalState(w.State)
	if err != nil {
		return nil, nil, nil, chungthuc.Errorf(chungthuc.EINTERNAL, "the signing state of certification %d cannot be read: %v", id, err)
	}
	return c, w, st, nil
}

// ToSignOf returns what entry id of the unit waits for (to read it again: a device that
// lost the answer, another instance). Errors: ENOTFOUND (no such entry in the unit),
// StepError ReasonNotWaiting / ReasonExpired (ECONFLICT).
func (s *Service) ToSignOf(ctx context.Context, unitID, id int64) (*Awaiting, error) {
	c, w, st, err := s.waiting(ctx, unitID, id)
	if err != nil {
		return nil, err
	}
	return awaiting(c, w, st.Pending), nil
}

// CompleteSignature completes the step entry sig.ID waits for with a signature value made
// outside the service. The officer's step (only by the officer of the entry) checks the
// signature and certificate, embeds it, prepares the seal and returns the next Awaiting
// (StepSeal) — or, when the unit has no registered seal certificate, applies the key
// store's seal at once and issues. The seal step (only by a records clerk or the unit
// administrator of the unit) completes the copy (time-stamps and validation data up to the
// configured PAdES level), stores and issues it: the Output is as Certify's.
//
// Refusals change nothing and leave the entry waiting (a right signature can follow):
// StepError ReasonRole (EFORBIDDEN), ReasonStep / ReasonNotWaiting (ECONFLICT),
// ReasonSignatureInvalid (EINVALID: another key, another digest, not a signature),
// ReasonCertificate (EFORBIDDEN: not the registered certificate, expired, revoked). A wait
// past its deadline is voided: ReasonExpired (ECONFLICT). EUNAVAILABLE (TSA, revocation
// source) leaves it waiting too; a failure after the copy is complete (store, register)
// voids the entry with the reason, as Certify does.
func (s *Service) CompleteSignature(ctx context.Context, sig Signature) (*Awaiting, *Output, error) {
	if s.External == nil {
		return nil, nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "signing outside the service is not configured here")
	}
	c, w, st, err := s.waiting(ctx, sig.UnitID, sig.ID)
	if err != nil {
		return nil, nil, err
	}
	if err := checkActor(c, w.Step, sig.Actor); err != nil {
		s.auditRefusal(ctx, c, w.Step, sig.Actor, err)
		return nil, nil, err
	}
	p := st.Pending
	if (w.Step == chungthuc.StepOfficerSignature) != (p.Step == signer.StepOfficer) {
		return nil, nil, chungthuc.Errorf(chungthuc.EINTERNAL, "the signing state of certification %d is not at its step", c.ID)
	}
	if err := s.assemble(ctx, st); err != nil {
		if chungthuc.ErrorCode(err) == chungthuc.EUNAVAILABLE {
			return nil, nil, err // the store is down: the entry keeps waiting
		}
		return nil, nil, chungthuc.Errorf(chungthuc.EINTERNAL, "the signing state of certification %d cannot be read: %v", c.ID, err)
	}
	sd, cp, err := s.External.Complete(ctx, p, sig.Value, sig.Chain)
	if err != nil {
		s.log().Warn("external signature refused", "certification", c.ID, "step", w.Step, "actor", sig.Actor.Name, "err", err)
		err = refusal(err)
		s.auditRefusal(ctx, c, w.Step, sig.Actor, err)
		return nil, nil, err
	}
	if w.Step == chungthuc.StepSeal {
		out, err := s.finishExternal(ctx, c, st, cp)
		return nil, out, err
	}
	unit, err := s.Register.UnitByID(ctx, c.UnitID)
	if err != nil {
		return nil, nil, err
	}
	var seal []*x509.Certificate
	var key *chungthuc.SigningKey
	if len(unit.SealCertPEM) == 0 {
		// No seal device registered: the key store's seal, now (mixed mode).
		if key, err = s.Keys.SealKey(ctx, unit); err != nil {
			return nil, nil, err
		}
		seal = key.Chain
	} else if seal, err = s.chainOf(unit.SealCertPEM); err != nil {
		return nil, nil, err
	}
	q, err := s.External.PrepareSeal(ctx, sd, seal, s.Now())
	if err != nil {
		return nil, nil, err // the officer's completion is not recorded: it can be sent again
	}
	st.Pending = q
	// Recording the seal step is what makes the officer's signature count, once: a second
	// completion racing this one (another instance) finds the wait moved.
	w, err = s.await(ctx, c.ID, chungthuc.StepSeal, st, sig.Actor.Name)
	if err != nil {
		if chungthuc.ErrorCode(err) == chungthuc.ECONFLICT {
			if now, rerr := s.Register.CertificationByID(ctx, c.ID); rerr == nil && now.Status != chungthuc.StatusPending {
				// Voided meanwhile (its wait expired): say so, not "already signed".
				return nil, nil, stepErr(ReasonNotWaiting, chungthuc.ECONFLICT,
					fmt.Sprintf("Mục số %d không còn chờ chữ ký số (tình trạng: %s)", now.Number, now.Status),
					fmt.Sprintf("entry %d no longer waits for a signature; it is %s", now.Number, now.Status))
			}
			return nil, nil, stepErr(ReasonStep, chungthuc.ECONFLICT,
				"Chữ ký của người thực hiện chứng thực đã được ghi nhận trước đó", "the officer's signature was already completed")
		}
		return nil, nil, err
	}
	if key != nil {
		cp, err := s.serverSeal(ctx, key, q)
		if err != nil {
			s.void(c, voidReason(stepSign, err))
			return nil, nil, err
		}
		out, err := s.finishExternal(ctx, c, st, cp)
		return nil, out, err
	}
	// The seal's state is stored: the assembled file is no longer needed here.
	recycle(q.PDF)
	q.PDF = nil
	return awaiting(c, w, q), nil, nil
}

// ActionSignatureRefused is the audit action of a signature value refused at a step of
// external signing (detail: step, reason, number, year).
const ActionSignatureRefused = "certify.signature_refused"

// auditRefusal records a refused signature in the audit log when the register keeps one
// (every chungthuc.Register does); a failure to record is logged.
func (s *Service) auditRefusal(ctx context.Context, c *chungthuc.Certification, step chungthuc.SignatureStep, a Actor, err error) {
	al, ok := s.Register.(chungthuc.AuditLog)
	if !ok {
		return
	}
	reason := chungthuc.ErrorCode(err)
	var se *StepError
	if errors.As(err, &se) {
		reason = se.Reason
	}
	detail, _ := json.Marshal(map[string]any{"step": step, "reason": reason, "number": c.Number, "year": c.Year})
	actor := a.Name
	if actor == "" {
		actor = "officer:" + strconv.FormatInt(a.OfficerID, 10)
	}
	if aerr := al.Append(context.WithoutCancel(ctx), &chungthuc.AuditEntry{Action: ActionSignatureRefused, UnitID: c.UnitID,
		Actor: actor, Subject: "certification:" + strconv.FormatInt(c.ID, 10), Detail: string(detail)}); aerr != nil {
		s.log().Error("cannot audit a refused signature", "certification", c.ID, "err", aerr)
	}
}

// serverSeal completes a prepared seal with the key store's seal key (the key is here).
func (s *Service) serverSeal(ctx context.Context, key *chungthuc.SigningKey, q *signer.Pending) (*chungthuc.Copy, error) {
	v, err := key.Signer.Sign(rand.Reader, q.Digest, crypto.SHA256)
	if err != nil {
		return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "the seal key cannot sign: %v", err)
	}
	_, cp, err := s.External.Complete(ctx, q, v, key.Chain)
	return cp, err
}

// finishExternal stores and issues a copy completed outside the service.
func (s *Service) finishExternal(ctx context.Context, c *chungthuc.Certification, st *waitState, cp *chungthuc.Copy) (*Output, error) {
	scans := make([]object, 0, len(st.ScanKeys))
	for _, k := range st.ScanKeys {
		scans = append(scans, object{key: k}) // stored when the request started
	}
	return s.store(ctx, c, cp, scans, st.AccessCode)
}

// checkActor refuses an actor who may not complete step of c.
func checkActor(c *chungthuc.Certification, step chungthuc.SignatureStep, a Actor) error {
	switch step {
	case chungthuc.StepOfficerSignature:
		if a.OfficerID == 0 || a.OfficerID != c.OfficerID || a.Role == chungthuc.RoleClerk {
			return stepErr(ReasonRole, chungthuc.EFORBIDDEN,
				"Chỉ người thực hiện chứng thực đã nhận yêu cầu này mới được ký",
				"only the officer who took this request may sign it")
		}
	case chungthuc.StepSeal:
		if a.Role != chungthuc.RoleClerk && a.Role != chungthuc.RoleUnitAdmin {
			return stepErr(ReasonRole, chungthuc.EFORBIDDEN,
				"Chỉ văn thư (hoặc quản trị viên) của đơn vị mới được đóng dấu",
				"only a records clerk (or the administrator) of the unit may apply the seal")
		}
	}
	return nil
}

// refusal words a refused completion for the client.
func refusal(err error) error {
	var se *StepError
	if errors.As(err, &se) {
		return se
	}
	switch chungthuc.ErrorCode(err) {
	case chungthuc.EINVALID:
		return &StepError{Reason: ReasonSignatureInvalid, err: &chungthuc.Error{Code: chungthuc.EINVALID,
			Message: "Chữ ký số không hợp lệ: không phải chữ ký của khóa đã đăng ký trên dữ liệu cần ký (the signature does not verify: not made by the registered key over the digest to sign): " + chungthuc.ErrorMessage(err)}}
	case chungthuc.EFORBIDDEN:
		return &StepError{Reason: ReasonCertificate, err: &chungthuc.Error{Code: chungthuc.EFORBIDDEN,
			Message: "Chứng thư số không được chấp nhận (the certificate is refused): " + chungthuc.ErrorMessage(err)}}
	}
	return err
}

// Void reasons of expired waits.
const (
	ExpiredOfficerReason = "Hết thời hạn chờ chữ ký số của người thực hiện chứng thực (hệ thống tự hủy)"
	ExpiredSealReason    = "Hết thời hạn chờ văn thư ký số, đóng dấu của cơ quan (hệ thống tự hủy)"
)

// expire voids entry id whose wait for step expired; it reports whether this call voided it.
func (s *Service) expire(ctx context.Context, id int64, step chungthuc.SignatureStep) bool {
	reason := ExpiredOfficerReason
	if step == chungthuc.StepSeal {
		reason = ExpiredSealReason
	}
	err := s.Register.Void(context.WithoutCancel(ctx), id, reason)
	if err != nil && chungthuc.ErrorCode(err) != chungthuc.ECONFLICT {
		s.log().Error("voiding an expired wait failed", "certification", id, "err", err)
		return false
	}
	if err != nil {
		return false // voided or issued meanwhile
	}
	s.log().Warn("entry voided: its signature wait expired", "certification", id, "step", step)
	return true
}

// ExpireWaits voids every entry whose signature wait passed its deadline, with the reason
// (audited and logged like any void; voids send no webhook event); their numbers stay in the register.
// It returns how many it voided. serve runs it with its periodic check.
func (s *Service) ExpireWaits(ctx context.Context) (int, error) {
	ws, err := s.Register.ExpiredWaits(ctx, s.Now(), 1000) // the rest at the next check
	if err != nil {
		return 0, err
	}
	n := 0
	for _, w := range ws {
		if s.expire(ctx, w.CertificationID, w.Step) {
			n++
		}
	}
	return n, nil
}
