package tsp

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/chungthuc/chungthuc/cms"
)

// Status is a PKIStatus (RFC 3161 2.4.2).
type Status int

// Statuses.
const (
	Granted                Status = 0
	GrantedWithMods        Status = 1
	Rejection              Status = 2
	Waiting                Status = 3
	RevocationWarning      Status = 4
	RevocationNotification Status = 5
)

func (s Status) String() string {
	switch s {
	case Granted:
		return "granted"
	case GrantedWithMods:
		return "granted with modifications"
	case Rejection:
		return "rejection"
	case Waiting:
		return "waiting"
	case RevocationWarning:
		return "revocation warning"
	case RevocationNotification:
		return "revocation notification"
	}
	return fmt.Sprintf("status %d", int(s))
}

// FailureInfo is a PKIFailureInfo: a set of failure bits.
type FailureInfo uint32

// Failure bits (RFC 3161 2.4.2; bit n of the BIT STRING is 1<<n here).
const (
	FailBadAlg              FailureInfo = 1 << 0
	FailBadRequest          FailureInfo = 1 << 2
	FailBadDataFormat       FailureInfo = 1 << 5
	FailTimeNotAvailable    FailureInfo = 1 << 14
	FailUnacceptedPolicy    FailureInfo = 1 << 15
	FailUnacceptedExtension FailureInfo = 1 << 16
	FailAddInfoNotAvailable FailureInfo = 1 << 17
	FailSystemFailure       FailureInfo = 1 << 25
)

var failureText = []struct {
	bit  FailureInfo
	text string
}{
	{FailBadAlg, "unrecognized or unsupported algorithm"},
	{FailBadRequest, "transaction not permitted or supported"},
	{FailBadDataFormat, "the data submitted has the wrong format"},
	{FailTimeNotAvailable, "the TSA's time source is not available"},
	{FailUnacceptedPolicy, "the requested TSA policy is not supported"},
	{FailUnacceptedExtension, "the requested extension is not supported"},
	{FailAddInfoNotAvailable, "the additional information requested is not available"},
	{FailSystemFailure, "the request cannot be handled due to system failure"},
}

func (f FailureInfo) String() string {
	var parts []string
	for _, t := range failureText {
		if f&t.bit != 0 {
			parts = append(parts, t.text)
			f &^= t.bit
		}
	}
	if f != 0 {
		parts = append(parts, fmt.Sprintf("failure bits %#x", uint32(f)))
	}
	return strings.Join(parts, "; ")
}

// Response is a TimeStampResp.
type Response struct {
	Status       Status
	StatusString []string    // the PKIFreeText, if any
	Failure      FailureInfo // 0 when absent
	// Token is the TimeStampToken (a ContentInfo) with DER lengths, nil when absent.
	Token []byte
}

// maxResponse bounds a TimeStampResp (tokens with long chains are a few KiB).
const maxResponse = cms.MaxDERSize

// ParseResponse parses a TimeStampResp. Its structure only: the token is returned as is,
// for ParseToken. A BER answer is normalised first.
//
// Errors: cms.ErrTooLarge above cms.MaxDERSize; cms.ErrMalformed otherwise (including a
// granted status without a token, or a token with another status).
func ParseResponse(der []byte) (*Response, error) {
	if len(der) > maxResponse {
		return nil, &cms.Error{Reason: cms.ReasonTooLarge, Detail: "time-stamp response too large"}
	}
	r, err := parseResponse(der)
	if err == nil {
		return r, nil
	}
	norm, n, nerr := cms.NormalizeBER(der)
	if nerr != nil || n != len(der) || string(norm) == string(der) {
		return nil, err
	}
	return parseResponse(norm)
}

func parseResponse(der []byte) (*Response, error) {
	bad := func(what string) error {
		return &cms.Error{Reason: cms.ReasonMalformed, Detail: "bad time-stamp response: " + what}
	}
	s := cryptobyte.String(der)
	var seq, status cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() || !seq.ReadASN1(&status, cbasn1.SEQUENCE) {
		return nil, bad("not a TimeStampResp")
	}
	r := &Response{}
	var st int64
	if !status.ReadASN1Integer(&st) || st < 0 || st > 5 {
		return nil, bad("status")
	}
	r.Status = Status(st)
	if status.PeekASN1Tag(cbasn1.SEQUENCE) {
		var texts cryptobyte.String
		if !status.ReadASN1(&texts, cbasn1.SEQUENCE) {
			return nil, bad("statusString")
		}
		for !texts.Empty() && len(r.StatusString) < 16 {
			var t cryptobyte.String
			if !texts.ReadASN1(&t, cbasn1.UTF8String) || !utf8.Valid(t) {
				return nil, bad("statusString")
			}
			r.StatusString = append(r.StatusString, string(t))
		}
	}
	if status.PeekASN1Tag(cbasn1.BIT_STRING) {
		var bits cryptobyte.String
		if !status.ReadASN1(&bits, cbasn1.BIT_STRING) || len(bits) < 1 || len(bits) > 5 || bits[0] > 7 {
			return nil, bad("failInfo")
		}
		for i, b := range bits[1:] {
			for j := 0; j < 8; j++ {
				if b&(0x80>>j) != 0 {
					r.Failure |= 1 << (8*i + j)
				}
			}
		}
	}
	if !status.Empty() {
		return nil, bad("status info")
	}
	if !seq.Empty() {
		var tok cryptobyte.String
		if !seq.ReadASN1Element(&tok, cbasn1.SEQUENCE) || !seq.Empty() {
			return nil, bad("timeStampToken")
		}
		r.Token = tok
	}
	granted := r.Status == Granted || r.Status == GrantedWithMods
	if granted != (r.Token != nil) {
		return nil, bad(fmt.Sprintf("%s with%s a token", r.Status, map[bool]string{true: "", false: "out"}[r.Token != nil]))
	}
	return r, nil
}

// Err returns nil for a granted answer, else an error naming the status, the failure
// and the TSA's text.
func (r *Response) Err() error {
	if r.Status == Granted || r.Status == GrantedWithMods {
		return nil
	}
	msg := "the time-stamping authority answered " + r.Status.String()
	if r.Failure != 0 {
		msg += ": " + r.Failure.String()
	}
	if len(r.StatusString) > 0 {
		msg += fmt.Sprintf(" (%q)", strings.Join(r.StatusString, " "))
	}
	return errors.New(msg)
}

// Marshal returns the DER of the response. A granted status needs Token (one DER
// element); another status must have none.
//
// Errors: cms.ErrInvalidOptions for a token that does not fit the status.
func (r *Response) Marshal() ([]byte, error) {
	granted := r.Status == Granted || r.Status == GrantedWithMods
	if granted != (len(r.Token) > 0) || r.Status < 0 || r.Status > 5 {
		return nil, &cms.Error{Reason: cms.ReasonInvalidOptions, Detail: "time-stamp response: status and token disagree"}
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1Int64(int64(r.Status))
			if len(r.StatusString) > 0 {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					for _, t := range r.StatusString {
						b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte(t)) })
					}
				})
			}
			if r.Failure != 0 {
				b.AddASN1(cbasn1.BIT_STRING, func(b *cryptobyte.Builder) { b.AddBytes(failureBits(r.Failure)) })
			}
		})
		b.AddBytes(r.Token)
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, &cms.Error{Reason: cms.ReasonInvalidOptions, Detail: "time-stamp response", Err: err}
	}
	return der, nil
}

// failureBits returns the DER contents of a named-bit BIT STRING: the unused-bits count,
// then the bits up to the last one set.
func failureBits(f FailureInfo) []byte {
	last := 31
	for f&(1<<last) == 0 {
		last--
	}
	out := make([]byte, 1+last/8+1)
	out[0] = byte(7 - last%8)
	for n := 0; n <= last; n++ {
		if f&(1<<n) != 0 {
			out[1+n/8] |= 0x80 >> (n % 8)
		}
	}
	return out
}
