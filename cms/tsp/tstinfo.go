package tsp

import (
	"crypto"
	"encoding/asn1"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/chungthuc/chungthuc/cms"
)

// OIDTSTInfo is id-ct-TSTInfo, the eContentType of a time-stamp token.
var OIDTSTInfo = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}

var (
	tagCtx0Prim = cbasn1.Tag(0).ContextSpecific()
	tagCtx1Prim = cbasn1.Tag(1).ContextSpecific()
	tagCtx0     = cbasn1.Tag(0).ContextSpecific().Constructed()
	tagCtx1     = cbasn1.Tag(1).ContextSpecific().Constructed()
)

// Info is a TSTInfo (RFC 3161 2.4.2): what a time-stamping authority signs.
type Info struct {
	// Policy is the TSA policy under which the token was issued.
	Policy asn1.ObjectIdentifier
	// Hash is the hash of the message imprint, 0 when HashOID is not a hash cms knows.
	Hash    crypto.Hash
	HashOID asn1.ObjectIdentifier
	// Digest is the hashedMessage: the digest of the time-stamped data.
	Digest []byte
	// Serial is the token's serial number (positive, unique per TSA).
	Serial *big.Int
	// GenTime is the time the token was made, in UTC.
	GenTime time.Time
	// Accuracy is the accuracy of GenTime (0 when absent).
	Accuracy time.Duration
	// Ordering is the ordering flag.
	Ordering bool
	// Nonce echoes the request's nonce (nil when absent).
	Nonce *big.Int
	// TSAName is the DER of the tsa field's GeneralName (nil when absent).
	TSAName []byte
	// HasExtensions is true when the TSTInfo carries extensions (not interpreted).
	HasExtensions bool
}

// maxInfo bounds a TSTInfo (a real one is under 1 KiB).
const maxInfo = 64 << 10

// ParseInfo parses a TSTInfo (the eContent of a token). DER is expected; BER is
// normalised first.
//
// Errors: cms.ErrMalformed (not a version 1 TSTInfo, a digest whose length does not fit
// its known hash, trailing data); cms.ErrTooLarge above 64 KiB. An unknown imprint hash
// is not an error here: Hash is 0 (ParseToken refuses it).
func ParseInfo(der []byte) (*Info, error) {
	if len(der) > maxInfo {
		return nil, &cms.Error{Reason: cms.ReasonTooLarge, Detail: "TSTInfo above 64 KiB"}
	}
	info, err := parseInfo(der)
	if err == nil {
		return info, nil
	}
	norm, n, nerr := cms.NormalizeBER(der)
	if nerr != nil || n != len(der) || string(norm) == string(der) {
		return nil, err
	}
	return parseInfo(norm)
}

func parseInfo(der []byte) (*Info, error) {
	bad := func(what string) error {
		return &cms.Error{Reason: cms.ReasonMalformed, Detail: "bad TSTInfo: " + what}
	}
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, bad("not one SEQUENCE")
	}
	info := &Info{Serial: new(big.Int)}
	var version int64
	if !seq.ReadASN1Integer(&version) || version != 1 {
		return nil, bad("version")
	}
	if !seq.ReadASN1ObjectIdentifier(&info.Policy) {
		return nil, bad("policy")
	}
	if err := readImprint(&seq, &info.HashOID, &info.Digest); err != nil {
		return nil, bad("messageImprint")
	}
	info.Hash = cms.HashForOID(info.HashOID)
	if info.Hash != 0 && len(info.Digest) != info.Hash.Size() {
		return nil, bad(fmt.Sprintf("a %v imprint of %d bytes", info.Hash, len(info.Digest)))
	}
	if !seq.ReadASN1Integer(info.Serial) || info.Serial.Sign() < 0 {
		return nil, bad("serialNumber")
	}
	var gt cryptobyte.String
	if !seq.ReadASN1(&gt, cbasn1.GeneralizedTime) {
		return nil, bad("genTime")
	}
	t, err := parseGeneralizedTime(string(gt))
	if err != nil {
		return nil, bad("genTime: " + err.Error())
	}
	info.GenTime = t
	if seq.PeekASN1Tag(cbasn1.SEQUENCE) {
		var acc cryptobyte.String
		if !seq.ReadASN1(&acc, cbasn1.SEQUENCE) {
			return nil, bad("accuracy")
		}
		var sec, ms, us int64
		if acc.PeekASN1Tag(cbasn1.INTEGER) && (!acc.ReadASN1Integer(&sec) || sec < 0 || sec > 1<<31) {
			return nil, bad("accuracy")
		}
		if acc.PeekASN1Tag(tagCtx0Prim) && (!acc.ReadASN1Int64WithTag(&ms, tagCtx0Prim) || ms < 1 || ms > 999) {
			return nil, bad("accuracy")
		}
		if acc.PeekASN1Tag(tagCtx1Prim) && (!acc.ReadASN1Int64WithTag(&us, tagCtx1Prim) || us < 1 || us > 999) {
			return nil, bad("accuracy")
		}
		if !acc.Empty() {
			return nil, bad("accuracy")
		}
		info.Accuracy = time.Duration(sec)*time.Second + time.Duration(ms)*time.Millisecond + time.Duration(us)*time.Microsecond
	}
	if seq.PeekASN1Tag(cbasn1.BOOLEAN) && !seq.ReadASN1Boolean(&info.Ordering) {
		return nil, bad("ordering")
	}
	if seq.PeekASN1Tag(cbasn1.INTEGER) {
		info.Nonce = new(big.Int)
		if !seq.ReadASN1Integer(info.Nonce) {
			return nil, bad("nonce")
		}
	}
	if seq.PeekASN1Tag(tagCtx0) {
		var name cryptobyte.String
		var tag cbasn1.Tag
		if !seq.ReadASN1(&name, tagCtx0) || !name.ReadAnyASN1Element((*cryptobyte.String)(&info.TSAName), &tag) || !name.Empty() {
			return nil, bad("tsa")
		}
	}
	if seq.PeekASN1Tag(tagCtx1) {
		if !seq.SkipASN1(tagCtx1) {
			return nil, bad("extensions")
		}
		info.HasExtensions = true
	}
	if !seq.Empty() {
		return nil, bad("trailing fields")
	}
	return info, nil
}

// readImprint reads a MessageImprint: the hash algorithm (parameters absent or NULL) and
// the digest.
func readImprint(s *cryptobyte.String, oid *asn1.ObjectIdentifier, digest *[]byte) error {
	var mi, alg cryptobyte.String
	if !s.ReadASN1(&mi, cbasn1.SEQUENCE) || !mi.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(oid) {
		return errBad
	}
	if alg.PeekASN1Tag(cbasn1.NULL) {
		var null cryptobyte.String
		if !alg.ReadASN1(&null, cbasn1.NULL) || len(null) != 0 {
			return errBad
		}
	}
	if !alg.Empty() || !mi.ReadASN1Bytes(digest, cbasn1.OCTET_STRING) || !mi.Empty() {
		return errBad
	}
	return nil
}

var errBad = &cms.Error{Reason: cms.ReasonMalformed}

// parseGeneralizedTime reads YYYYMMDDhhmmss[.f...]Z (RFC 3161 2.4.2: UTC, fraction
// without trailing zeros).
func parseGeneralizedTime(s string) (time.Time, error) {
	if len(s) < 15 || s[len(s)-1] != 'Z' {
		return time.Time{}, fmt.Errorf("%q is not YYYYMMDDhhmmss[.f]Z", s)
	}
	base, frac, hasFrac := strings.Cut(s[:len(s)-1], ".")
	if len(base) != 14 || strings.Trim(base, "0123456789") != "" {
		return time.Time{}, fmt.Errorf("%q is not YYYYMMDDhhmmss[.f]Z", s)
	}
	t, err := time.Parse("20060102150405", base)
	if err != nil {
		return time.Time{}, err
	}
	if hasFrac {
		if frac == "" || len(frac) > 9 || strings.Trim(frac, "0123456789") != "" || strings.HasSuffix(frac, "0") {
			return time.Time{}, fmt.Errorf("bad fraction in %q", s)
		}
		n, _ := strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
		t = t.Add(time.Duration(n))
	}
	return t.UTC(), nil
}

// formatGeneralizedTime writes t in UTC as YYYYMMDDhhmmss[.f]Z, the fraction without
// trailing zeros.
func formatGeneralizedTime(t time.Time) string {
	t = t.UTC()
	s := t.Format("20060102150405")
	if ns := t.Nanosecond(); ns != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%09d", ns), "0")
	}
	return s + "Z"
}

// Marshal returns the DER of the TSTInfo. Policy, a known Hash (or HashOID) with a digest
// of its size, a non-negative Serial and GenTime are required; TSAName, when set, must
// be one DER GeneralName.
//
// Errors: cms.ErrInvalidOptions naming the missing or wrong field.
func (info *Info) Marshal() ([]byte, error) {
	invalid := func(what string) error {
		return &cms.Error{Reason: cms.ReasonInvalidOptions, Detail: "TSTInfo: " + what}
	}
	oid := info.HashOID
	if info.Hash != 0 {
		if oid = cms.OIDForHash(info.Hash); oid == nil {
			return nil, invalid(fmt.Sprintf("hash %v", info.Hash))
		}
		if len(info.Digest) != info.Hash.Size() {
			return nil, invalid("digest length")
		}
	}
	switch {
	case len(info.Policy) < 2:
		return nil, invalid("no policy")
	case len(oid) < 2 || len(info.Digest) == 0:
		return nil, invalid("no message imprint")
	case info.Serial == nil || info.Serial.Sign() < 0:
		return nil, invalid("serial number")
	case info.GenTime.IsZero():
		return nil, invalid("no time")
	case info.Accuracy < 0:
		return nil, invalid("negative accuracy")
	}
	if info.TSAName != nil {
		n := cryptobyte.String(info.TSAName)
		var el cryptobyte.String
		var tag cbasn1.Tag
		if !n.ReadAnyASN1Element(&el, &tag) || !n.Empty() {
			return nil, invalid("TSA name is not one GeneralName")
		}
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1ObjectIdentifier(info.Policy)
		addImprint(b, oid, info.Digest)
		b.AddASN1BigInt(info.Serial)
		b.AddASN1(cbasn1.GeneralizedTime, func(b *cryptobyte.Builder) { b.AddBytes([]byte(formatGeneralizedTime(info.GenTime))) })
		if a := info.Accuracy; a > 0 {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				if sec := int64(a / time.Second); sec > 0 {
					b.AddASN1Int64(sec)
				}
				if ms := int64(a % time.Second / time.Millisecond); ms > 0 {
					b.AddASN1Int64WithTag(ms, tagCtx0Prim)
				}
				if us := int64(a % time.Millisecond / time.Microsecond); us > 0 {
					b.AddASN1Int64WithTag(us, tagCtx1Prim)
				}
			})
		}
		if info.Ordering {
			b.AddASN1Boolean(true)
		}
		if info.Nonce != nil {
			b.AddASN1BigInt(info.Nonce)
		}
		if info.TSAName != nil {
			b.AddASN1(tagCtx0, func(b *cryptobyte.Builder) { b.AddBytes(info.TSAName) })
		}
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, invalid(err.Error())
	}
	return der, nil
}

// addImprint writes a MessageImprint with absent hash parameters (RFC 5754).
func addImprint(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, digest []byte) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
		b.AddASN1OctetString(digest)
	})
}

// DirectoryName returns the GeneralName directoryName [4] of a DER Name (for instance a
// certificate's RawSubject), for Info.TSAName.
func DirectoryName(rawName []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(4).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddBytes(rawName) })
	out, _ := b.Bytes()
	return out
}
