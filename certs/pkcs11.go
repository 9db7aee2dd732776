//go:build cgo

package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"

	"github.com/chungthuc/chungthuc"
)

// PKCS11Key is a private key on a PKCS#11 token, usable only through crypto.Signer. It
// keeps a pool of logged-in sessions and is safe for concurrent use.
//
// Supported: ECDSA keys (P-256, P-384, P-521; CKM_ECDSA, signatures returned ASN.1 encoded
// as crypto/ecdsa does) and RSA keys with PKCS#1 v1.5 (CKM_RSA_PKCS over a DigestInfo
// built here), each with SHA-256, SHA-384 or SHA-512 digests.
type PKCS11Key struct {
	cfg     PKCS11Config // includes the PIN, kept for logging in again after a reconnect
	mod     *p11Module
	cert    *x509.Certificate
	keyType uint // pkcs11.CKK_EC or pkcs11.CKK_RSA

	sem chan struct{} // one token per session that may be in use

	mu     sync.Mutex // guards the fields below
	slot   uint
	key    pkcs11.ObjectHandle
	idle   []pkcs11.SessionHandle
	gen    uint64 // bumped on reconnect: sessions of older generations are closed, not reused
	closed bool
}

var _ crypto.Signer = (*PKCS11Key)(nil)

// OpenPKCS11 loads cfg.Module (once per process, shared by all keys on it), finds the token
// labelled cfg.TokenLabel, logs in with cfg.PIN, finds the private key and checks that it is
// the key of cert: the public keys must be equal (where the token exposes its public key)
// and a test signature made on the token must verify with cert's public key. A key that
// does not match its certificate is refused.
//
// Errors: EINVALID for an incomplete config or a key that does not match cert;
// EUNAVAILABLE ("signing token not available: …") when the module cannot be loaded or the
// token is not present; EUNAUTHORIZED for a wrong or locked PIN; ENOTFOUND when no such key
// is on the token; EUNSUPPORTED for key types other than EC and RSA.
func OpenPKCS11(cfg PKCS11Config, cert *x509.Certificate) (*PKCS11Key, error) {
	switch {
	case cfg.Module == "":
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "PKCS#11 module path is required")
	case cfg.TokenLabel == "":
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "PKCS#11 token label is required")
	case cfg.KeyLabel == "" && len(cfg.KeyID) == 0:
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "PKCS#11 key label or key id is required")
	case cert == nil:
		return nil, chungthuc.Errorf(chungthuc.EINVALID, "a certificate is required for the PKCS#11 key")
	}
	if cfg.Sessions <= 0 {
		cfg.Sessions = 4
	}
	mod, err := p11Acquire(cfg.Module)
	if err != nil {
		return nil, err
	}
	k := &PKCS11Key{cfg: cfg, mod: mod, cert: cert, sem: make(chan struct{}, cfg.Sessions)}
	if err := k.connect(); err != nil {
		k.closeSessions()
		mod.release()
		return nil, err
	}
	if err := k.checkCertificate(); err != nil {
		k.closeSessions()
		mod.release()
		return nil, err
	}
	return k, nil
}

// Public returns the public key of the certificate (which OpenPKCS11 checked is the token's).
func (k *PKCS11Key) Public() crypto.PublicKey { return k.cert.PublicKey }

// Certificate returns the certificate the key was opened with.
func (k *PKCS11Key) Certificate() *x509.Certificate { return k.cert }

// Sign signs digest, the hash of a message made with opts.HashFunc() (SHA-256, SHA-384 or
// SHA-512), on the token. rand is ignored: the token uses its own generator. ECDSA
// signatures are ASN.1 encoded; RSA signatures are PKCS#1 v1.5.
//
// Errors: EINVALID when the digest length does not match the hash; EUNSUPPORTED for other
// hashes or RSA-PSS options; EUNAVAILABLE ("signing token not available: …") when the
// token is gone or the key was closed — after one attempt to reconnect to the token by its
// label, so a re-inserted token works again without a restart.
func (k *PKCS11Key) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	mech, input, err := k.signInput(digest, opts)
	if err != nil {
		return nil, err
	}
	k.sem <- struct{}{}
	defer func() { <-k.sem }()

	sig, err := k.signOnce(mech, input)
	if err != nil && p11TokenGone(err) {
		// The token may have been removed and re-inserted, or its sessions dropped: find it
		// again by label and retry once.
		if rerr := k.reconnect(); rerr != nil {
			return nil, k.unavailable(rerr)
		}
		sig, err = k.signOnce(mech, input)
	}
	if err != nil {
		if p11TokenGone(err) {
			return nil, k.unavailable(err)
		}
		if ce := (*chungthuc.Error)(nil); errors.As(err, &ce) {
			return nil, err
		}
		return nil, fmt.Errorf("certs: PKCS#11 sign with key %s on token %q: %w", k.cfg.keyName(), k.cfg.TokenLabel, err)
	}
	if k.keyType == pkcs11.CKK_EC {
		return p11ECDSASignatureToASN1(sig)
	}
	return sig, nil
}

// Close waits for signatures in progress, closes the sessions and releases the module
// (finalizing it when no other key uses it). Sign after Close returns EUNAVAILABLE.
func (k *PKCS11Key) Close() error {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return nil
	}
	k.closed = true
	k.mu.Unlock()
	for range cap(k.sem) { // wait for every Sign in progress
		k.sem <- struct{}{}
	}
	k.closeSessions()
	k.mod.release()
	for range cap(k.sem) { // let later calls through: they see closed and fail
		<-k.sem
	}
	return nil
}

// signInput checks digest and opts and returns the mechanism and the bytes the token signs.
func (k *PKCS11Key) signInput(digest []byte, opts crypto.SignerOpts) ([]*pkcs11.Mechanism, []byte, error) {
	if opts == nil {
		return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "PKCS#11 sign: a hash function is required")
	}
	if _, ok := opts.(*rsa.PSSOptions); ok {
		return nil, nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "PKCS#11 sign: RSA-PSS is not supported, only PKCS#1 v1.5")
	}
	h := opts.HashFunc()
	prefix, ok := p11DigestInfoPrefix[h]
	if !ok {
		return nil, nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "PKCS#11 sign: hash %v is not supported (use SHA-256, SHA-384 or SHA-512)", h)
	}
	if len(digest) != h.Size() {
		return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "PKCS#11 sign: digest is %d bytes, %v needs %d", len(digest), h, h.Size())
	}
	if k.keyType == pkcs11.CKK_EC {
		return []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_ECDSA, nil)}, digest, nil
	}
	// CKM_RSA_PKCS pads whatever it is given: the DigestInfo naming the hash is our job.
	in := make([]byte, 0, len(prefix)+len(digest))
	in = append(append(in, prefix...), digest...)
	return []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS, nil)}, in, nil
}

// p11DigestInfoPrefix is the DER of DigestInfo{AlgorithmIdentifier{hash OID, NULL}, OCTET
// STRING header} for each supported hash (RFC 8017 section 9.2, note 1).
var p11DigestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// signOnce signs on one pooled session. A session that failed because the token went away
// is closed rather than returned to the pool.
func (k *PKCS11Key) signOnce(mech []*pkcs11.Mechanism, input []byte) ([]byte, error) {
	sh, key, gen, err := k.session()
	if err != nil {
		return nil, err
	}
	ctx := k.mod.ctx
	err = ctx.SignInit(sh, mech, key)
	var sig []byte
	if err == nil {
		sig, err = ctx.Sign(sh, input)
	}
	if err != nil && p11TokenGone(err) {
		_ = ctx.CloseSession(sh)
		return nil, err
	}
	k.putSession(sh, gen)
	return sig, err
}

// session returns an idle session or opens and logs in a new one.
func (k *PKCS11Key) session() (pkcs11.SessionHandle, pkcs11.ObjectHandle, uint64, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return 0, 0, 0, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "signing token not available: key %s on token %q is closed", k.cfg.keyName(), k.cfg.TokenLabel)
	}
	if n := len(k.idle); n > 0 {
		sh := k.idle[n-1]
		k.idle = k.idle[:n-1]
		return sh, k.key, k.gen, nil
	}
	sh, err := k.openSession(k.slot)
	return sh, k.key, k.gen, err
}

func (k *PKCS11Key) putSession(sh pkcs11.SessionHandle, gen uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if gen != k.gen || k.closed {
		_ = k.mod.ctx.CloseSession(sh)
		return
	}
	k.idle = append(k.idle, sh)
}

// openSession opens a session on slot and logs the user in. Logging in is per token and
// application, so on every session but the first C_Login answers "already logged in".
func (k *PKCS11Key) openSession(slot uint) (pkcs11.SessionHandle, error) {
	ctx := k.mod.ctx
	sh, err := ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION)
	if err != nil {
		return 0, err
	}
	if err := ctx.Login(sh, pkcs11.CKU_USER, k.cfg.PIN); err != nil && !p11Is(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		_ = ctx.CloseSession(sh)
		// The PKCS#11 error is only a return code: it never echoes the PIN.
		switch {
		case p11Is(err, pkcs11.CKR_PIN_INCORRECT), p11Is(err, pkcs11.CKR_PIN_INVALID), p11Is(err, pkcs11.CKR_PIN_LEN_RANGE):
			return 0, chungthuc.Errorf(chungthuc.EUNAUTHORIZED, "PKCS#11 login to token %q failed: wrong PIN", k.cfg.TokenLabel)
		case p11Is(err, pkcs11.CKR_PIN_LOCKED), p11Is(err, pkcs11.CKR_PIN_EXPIRED):
			return 0, chungthuc.Errorf(chungthuc.EUNAUTHORIZED, "PKCS#11 login to token %q failed: PIN locked or expired", k.cfg.TokenLabel)
		}
		return 0, err
	}
	return sh, nil
}

// connect finds the token and the key and leaves one logged-in session in the pool.
func (k *PKCS11Key) connect() error {
	ctx := k.mod.ctx
	slot, err := p11FindSlot(ctx, k.cfg.TokenLabel)
	if err != nil {
		return err
	}
	sh, err := k.openSession(slot)
	if err != nil {
		if p11TokenGone(err) {
			return k.unavailable(err)
		}
		return err
	}
	key, keyType, err := p11FindKey(ctx, sh, k.cfg)
	if err != nil {
		_ = ctx.CloseSession(sh)
		if p11TokenGone(err) {
			return k.unavailable(err)
		}
		return err
	}
	if k.keyType != 0 && k.keyType != keyType {
		_ = ctx.CloseSession(sh)
		return chungthuc.Errorf(chungthuc.EINVALID, "key %s on token %q changed type", k.cfg.keyName(), k.cfg.TokenLabel)
	}
	k.mu.Lock()
	k.slot, k.key, k.keyType = slot, key, keyType
	k.gen++
	k.idle = append(k.idle, sh)
	k.mu.Unlock()
	return nil
}

// reconnect drops every idle session and finds the token and key again.
func (k *PKCS11Key) reconnect() error {
	k.closeSessions()
	k.mu.Lock()
	closed := k.closed
	k.mu.Unlock()
	if closed {
		return errors.New("key closed")
	}
	return k.connect()
}

func (k *PKCS11Key) closeSessions() {
	k.mu.Lock()
	idle := k.idle
	k.idle = nil
	k.gen++
	k.mu.Unlock()
	for _, sh := range idle {
		_ = k.mod.ctx.CloseSession(sh)
	}
}

// unavailable wraps a token failure as EUNAVAILABLE.
func (k *PKCS11Key) unavailable(err error) error {
	var ce *chungthuc.Error
	if errors.As(err, &ce) && ce.Code == chungthuc.EUNAVAILABLE {
		return err
	}
	return chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "signing token not available: token %q, key %s", k.cfg.TokenLabel, k.cfg.keyName())
}

// checkCertificate refuses a key that is not the key of k.cert: equal public keys where
// the token exposes them, and always a test signature verified with the certificate.
func (k *PKCS11Key) checkCertificate() error {
	mismatch := func(why string) error {
		return chungthuc.Errorf(chungthuc.EINVALID, "key %s on token %q does not match the certificate %q: %s",
			k.cfg.keyName(), k.cfg.TokenLabel, k.cert.Subject.CommonName, why)
	}
	switch k.cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if k.keyType != pkcs11.CKK_EC {
			return mismatch("the certificate has an ECDSA key, the token an RSA key")
		}
	case *rsa.PublicKey:
		if k.keyType != pkcs11.CKK_RSA {
			return mismatch("the certificate has an RSA key, the token an EC key")
		}
	default:
		return chungthuc.Errorf(chungthuc.EUNSUPPORTED, "certificate %q has a %T public key; only ECDSA and RSA are supported", k.cert.Subject.CommonName, k.cert.PublicKey)
	}

	sh, key, gen, err := k.session()
	if err != nil {
		return err
	}
	pub, err := p11PublicKey(k.mod.ctx, sh, key)
	k.putSession(sh, gen)
	if err != nil {
		return err
	}
	if pub != nil {
		if eq, ok := k.cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(pub) {
			return mismatch("public keys differ")
		}
	}

	challenge := make([]byte, 32)
	if _, err := rand.Read(challenge); err != nil {
		return err
	}
	digest := sha256.Sum256(challenge)
	sig, err := k.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		return err
	}
	switch p := k.cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(p, digest[:], sig) {
			return mismatch("test signature does not verify")
		}
	case *rsa.PublicKey:
		if rsa.VerifyPKCS1v15(p, crypto.SHA256, digest[:], sig) != nil {
			return mismatch("test signature does not verify")
		}
	}
	return nil
}

// p11FindSlot returns the slot holding the token labelled label.
func p11FindSlot(ctx *pkcs11.Ctx, label string) (uint, error) {
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return 0, chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "signing token not available: token %q: listing slots", label)
	}
	var found []uint
	for _, s := range slots {
		ti, err := ctx.GetTokenInfo(s)
		if err != nil {
			continue // a slot whose token vanished while we looked
		}
		if strings.TrimRight(ti.Label, " \x00") == label {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return 0, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "signing token not available: no token labelled %q is present", label)
	case 1:
		return found[0], nil
	}
	return 0, chungthuc.Errorf(chungthuc.EINVALID, "%d tokens are labelled %q; labels must be unique", len(found), label)
}

// p11FindKey finds the one private key matching cfg's label and/or id.
func p11FindKey(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, cfg PKCS11Config) (pkcs11.ObjectHandle, uint, error) {
	tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY)}
	if cfg.KeyLabel != "" {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, cfg.KeyLabel))
	}
	if len(cfg.KeyID) > 0 {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, cfg.KeyID))
	}
	objs, err := p11Find(ctx, sh, tmpl, 2)
	if err != nil {
		return 0, 0, err
	}
	switch len(objs) {
	case 0:
		return 0, 0, chungthuc.Errorf(chungthuc.ENOTFOUND, "no private key with %s on token %q", cfg.keyName(), cfg.TokenLabel)
	case 2:
		return 0, 0, chungthuc.Errorf(chungthuc.EINVALID, "several private keys with %s on token %q; give a unique label or id", cfg.keyName(), cfg.TokenLabel)
	}
	attrs, err := ctx.GetAttributeValue(sh, objs[0], []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil)})
	if err != nil {
		return 0, 0, err
	}
	kt, err := p11Uint(attrs[0].Value)
	if err != nil {
		return 0, 0, err
	}
	if kt != pkcs11.CKK_EC && kt != pkcs11.CKK_RSA {
		return 0, 0, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "key %s on token %q has type %#x; only EC and RSA keys are supported", cfg.keyName(), cfg.TokenLabel, kt)
	}
	return objs[0], kt, nil
}

func p11Find(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, tmpl []*pkcs11.Attribute, max int) ([]pkcs11.ObjectHandle, error) {
	if err := ctx.FindObjectsInit(sh, tmpl); err != nil {
		return nil, err
	}
	objs, _, err := ctx.FindObjects(sh, max)
	if ferr := ctx.FindObjectsFinal(sh); err == nil {
		err = ferr
	}
	return objs, err
}

// p11PublicKey reads the public half of the private key priv: the modulus and exponent of
// an RSA key, or the point of the EC public-key object with the same CKA_ID. It returns
// nil, nil when the token does not expose it (the test signature still decides).
func p11PublicKey(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, priv pkcs11.ObjectHandle) (crypto.PublicKey, error) {
	attrs, err := ctx.GetAttributeValue(sh, priv, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil), pkcs11.NewAttribute(pkcs11.CKA_ID, nil)})
	if err != nil {
		return nil, err
	}
	kt, err := p11Uint(attrs[0].Value)
	if err != nil {
		return nil, err
	}
	id := attrs[1].Value
	switch kt {
	case pkcs11.CKK_RSA:
		a, err := ctx.GetAttributeValue(sh, priv, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_MODULUS, nil), pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, nil)})
		if err != nil || len(a[0].Value) == 0 {
			return nil, nil
		}
		e := new(big.Int).SetBytes(a[1].Value)
		if !e.IsInt64() || e.Int64() > 1<<31-1 {
			return nil, fmt.Errorf("RSA public exponent out of range")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(a[0].Value), E: int(e.Int64())}, nil
	case pkcs11.CKK_EC:
		if len(id) == 0 {
			return nil, nil
		}
		pubs, err := p11Find(ctx, sh, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_EC),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		}, 2)
		if err != nil || len(pubs) != 1 {
			return nil, nil
		}
		return p11ECPublicKey(ctx, sh, pubs[0])
	}
	return nil, nil
}

// p11ECPublicKey reads CKA_EC_PARAMS and CKA_EC_POINT of an EC public-key object.
func p11ECPublicKey(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, pub pkcs11.ObjectHandle) (*ecdsa.PublicKey, error) {
	a, err := ctx.GetAttributeValue(sh, pub, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, nil), pkcs11.NewAttribute(pkcs11.CKA_EC_POINT, nil)})
	if err != nil {
		return nil, err
	}
	var oid asn1.ObjectIdentifier
	if rest, err := asn1.Unmarshal(a[0].Value, &oid); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("EC key parameters are not a named curve")
	}
	var curve elliptic.Curve
	switch {
	case oid.Equal(p11OIDP256):
		curve = elliptic.P256()
	case oid.Equal(p11OIDP384):
		curve = elliptic.P384()
	case oid.Equal(p11OIDP521):
		curve = elliptic.P521()
	default:
		return nil, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "EC curve %v is not supported", oid)
	}
	// CKA_EC_POINT is a DER OCTET STRING holding the point; some tokens give the bare point.
	point := a[1].Value
	var inner []byte
	if rest, err := asn1.Unmarshal(point, &inner); err == nil && len(rest) == 0 {
		point = inner
	}
	return ecdsa.ParseUncompressedPublicKey(curve, point)
}

var (
	p11OIDP256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	p11OIDP384 = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	p11OIDP521 = asn1.ObjectIdentifier{1, 3, 132, 0, 35}
)

// p11ECDSASignatureToASN1 turns the r||s of CKM_ECDSA into the ASN.1 SEQUENCE crypto/ecdsa
// and X.509/CMS use.
func p11ECDSASignatureToASN1(sig []byte) ([]byte, error) {
	if len(sig) == 0 || len(sig)%2 != 0 {
		return nil, fmt.Errorf("certs: PKCS#11 returned a malformed ECDSA signature (%d bytes)", len(sig))
	}
	n := len(sig) / 2
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])})
}

// p11Uint decodes a CK_ULONG attribute (native byte order, native size).
func p11Uint(b []byte) (uint, error) {
	if len(b) != 4 && len(b) != 8 {
		return 0, fmt.Errorf("PKCS#11 attribute of %d bytes is not a CK_ULONG", len(b))
	}
	if len(b) == 4 {
		return uint(binary.NativeEndian.Uint32(b)), nil
	}
	return uint(binary.NativeEndian.Uint64(b)), nil
}

// p11Is reports whether err is the PKCS#11 return value rv.
func p11Is(err error, rv uint) bool {
	var pe pkcs11.Error
	return errors.As(err, &pe) && uint(pe) == rv
}

// p11TokenGone reports whether err means the token, its sessions or the module went away
// (rather than a bad request): the cases where reconnecting may help and where the caller
// sees EUNAVAILABLE.
func p11TokenGone(err error) bool {
	var ce *chungthuc.Error
	if errors.As(err, &ce) {
		return ce.Code == chungthuc.EUNAVAILABLE
	}
	for _, rv := range []uint{
		pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_SESSION_COUNT,
		pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_DEVICE_ERROR, pkcs11.CKR_TOKEN_NOT_PRESENT,
		pkcs11.CKR_TOKEN_NOT_RECOGNIZED, pkcs11.CKR_SLOT_ID_INVALID, pkcs11.CKR_KEY_HANDLE_INVALID,
		pkcs11.CKR_OBJECT_HANDLE_INVALID, pkcs11.CKR_USER_NOT_LOGGED_IN,
		pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED, pkcs11.CKR_GENERAL_ERROR,
	} {
		if p11Is(err, rv) {
			return true
		}
	}
	return false
}

// p11Module is a loaded and initialized PKCS#11 library. C_Initialize may be called once
// per process, so keys on the same module share one, counted by refs.
type p11Module struct {
	path string
	ctx  *pkcs11.Ctx
	refs int
}

var p11Modules = struct {
	sync.Mutex
	m map[string]*p11Module
}{m: map[string]*p11Module{}}

func p11Acquire(path string) (*p11Module, error) {
	p11Modules.Lock()
	defer p11Modules.Unlock()
	if m, ok := p11Modules.m[path]; ok {
		m.refs++
		return m, nil
	}
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, chungthuc.Errorf(chungthuc.EUNAVAILABLE, "signing token not available: cannot load PKCS#11 module %q", path)
	}
	if err := ctx.Initialize(); err != nil && !p11Is(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		ctx.Destroy()
		return nil, chungthuc.Wrap(err, chungthuc.EUNAVAILABLE, "signing token not available: initializing PKCS#11 module %q", path)
	}
	m := &p11Module{path: path, ctx: ctx, refs: 1}
	p11Modules.m[path] = m
	return m, nil
}

func (m *p11Module) release() {
	p11Modules.Lock()
	defer p11Modules.Unlock()
	m.refs--
	if m.refs > 0 {
		return
	}
	delete(p11Modules.m, m.path)
	_ = m.ctx.Finalize()
	m.ctx.Destroy()
}
