package tsp

import (
	"crypto"
	"encoding/asn1"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/chungthuc/chungthuc/cms"
)

// MaxRequest bounds the size of a TimeStampReq ParseRequest reads (a real one is under
// 200 bytes).
const MaxRequest = 16 << 10

// Request is a TimeStampReq (RFC 3161 2.4.1).
type Request struct {
	// Hash is the imprint's hash, 0 when HashOID is not a hash cms knows.
	Hash    crypto.Hash
	HashOID asn1.ObjectIdentifier
	// Digest is the hashedMessage.
	Digest []byte
	// Policy is the requested TSA policy (nil: any).
	Policy asn1.ObjectIdentifier
	// Nonce, when not nil, must come back in the token.
	Nonce *big.Int
	// CertReq asks for the TSA certificate in the token.
	CertReq bool
	// HasExtensions is true when the request carries extensions (not interpreted).
	HasExtensions bool
}

// Marshal returns the DER of the request. Hash must be one cms knows (HashOID is then
// ignored) and Digest of its size.
//
// Errors: cms.ErrInvalidOptions for another hash or a digest of the wrong size;
// cms.ErrUnsupported when HasExtensions is set (this package writes none).
func (r *Request) Marshal() ([]byte, error) {
	oid := cms.OIDForHash(r.Hash)
	switch {
	case oid == nil:
		return nil, &cms.Error{Reason: cms.ReasonInvalidOptions, Detail: "time-stamp request: hash " + r.Hash.String()}
	case len(r.Digest) != r.Hash.Size():
		return nil, &cms.Error{Reason: cms.ReasonInvalidOptions, Detail: "time-stamp request: digest length"}
	case r.HasExtensions:
		return nil, &cms.Error{Reason: cms.ReasonUnsupported, Detail: "time-stamp request extensions"}
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		addImprint(b, oid, r.Digest)
		if r.Policy != nil {
			b.AddASN1ObjectIdentifier(r.Policy)
		}
		if r.Nonce != nil {
			b.AddASN1BigInt(r.Nonce)
		}
		if r.CertReq {
			b.AddASN1Boolean(true)
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, &cms.Error{Reason: cms.ReasonInvalidOptions, Detail: "time-stamp request", Err: err}
	}
	return der, nil
}

// ParseRequest parses a DER TimeStampReq. An imprint hash cms does not know is reported
// with Hash 0 and no error, so a TSA can answer badAlg rather than badDataFormat.
//
// Errors: cms.ErrTooLarge above MaxRequest; cms.ErrMalformed for anything that is not a
// version 1 TimeStampReq in DER, or a digest whose size does not fit its known hash.
func ParseRequest(der []byte) (*Request, error) {
	if len(der) > MaxRequest {
		return nil, &cms.Error{Reason: cms.ReasonTooLarge, Detail: "time-stamp request above 16 KiB"}
	}
	bad := func(what string) error {
		return &cms.Error{Reason: cms.ReasonMalformed, Detail: "bad time-stamp request: " + what}
	}
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, bad("not one DER SEQUENCE")
	}
	var version int64
	if !seq.ReadASN1Integer(&version) || version != 1 {
		return nil, bad("version")
	}
	r := &Request{}
	if err := readImprint(&seq, &r.HashOID, &r.Digest); err != nil {
		return nil, bad("messageImprint")
	}
	r.Hash = cms.HashForOID(r.HashOID)
	if r.Hash != 0 && len(r.Digest) != r.Hash.Size() {
		return nil, bad("digest length")
	}
	if seq.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER) && !seq.ReadASN1ObjectIdentifier(&r.Policy) {
		return nil, bad("reqPolicy")
	}
	if seq.PeekASN1Tag(cbasn1.INTEGER) {
		r.Nonce = new(big.Int)
		if !seq.ReadASN1Integer(r.Nonce) {
			return nil, bad("nonce")
		}
	}
	if seq.PeekASN1Tag(cbasn1.BOOLEAN) && !seq.ReadASN1Boolean(&r.CertReq) {
		return nil, bad("certReq")
	}
	if seq.PeekASN1Tag(tagCtx0) {
		var ext cryptobyte.String
		if !seq.ReadASN1(&ext, tagCtx0) || ext.Empty() {
			return nil, bad("extensions")
		}
		r.HasExtensions = true
	}
	if !seq.Empty() {
		return nil, bad("trailing fields")
	}
	return r, nil
}
