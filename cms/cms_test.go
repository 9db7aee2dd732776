package cms

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/digitorus/pkcs7"
)

var signCases = []struct {
	kind string
	hash crypto.Hash
	alg  string
}{
	{"rsa2048", 0, "sha256WithRSAEncryption"},
	{"rsa3072", crypto.SHA384, "sha384WithRSAEncryption"},
	{"rsa2048", crypto.SHA512, "sha512WithRSAEncryption"},
	{"p256", crypto.SHA256, "ecdsa-with-SHA256"},
	{"p384", crypto.SHA384, "ecdsa-with-SHA384"},
	{"p256", crypto.SHA512, "ecdsa-with-SHA512"},
	{"p521", crypto.SHA512, "ecdsa-with-SHA512"},
}

func caseName(kind string, h crypto.Hash) string {
	if h == 0 {
		h = crypto.SHA256
	}
	return fmt.Sprintf("%s-%v", kind, h)
}

// sign signs data with the PKI and checks the one-Sign-call and MaxSizeWithExtra contracts.
func sign(t *testing.T, p *testPKI, h crypto.Hash, data []byte) []byte {
	t.Helper()
	cs := &countingSigner{Signer: p.key}
	opt := p.opts(h)
	opt.Signer = cs
	max := MaxSizeWithExtra(SignOptions{Chain: opt.Chain, Hash: h}, 0) // no key needed
	der, err := SignDetached(digestOf(h, data), opt)
	if err != nil {
		t.Fatal(err)
	}
	if n := cs.calls.Load(); n != 1 {
		t.Fatalf("Sign called %d times, want exactly 1", n)
	}
	if len(der) > max || max-len(der) > 200 {
		t.Fatalf("MaxSizeWithExtra %d, actual %d", max, len(der))
	}
	return der
}

func TestSignParseVerify(t *testing.T) {
	for _, c := range signCases {
		t.Run(caseName(c.kind, c.hash), func(t *testing.T) {
			p := getPKI(t, c.kind)
			data := []byte("%PDF-1.7 byte range content ... Chứng thực bản sao đúng với bản chính.")
			der := sign(t, p, c.hash, data)
			padded := append(bytes.Clone(der), make([]byte, 1000)...)
			sd, err := Parse(padded)
			if err != nil {
				t.Fatal(err)
			}
			if sd.TrailingZeros != 1000 || !bytes.Equal(sd.Raw, der) {
				t.Fatalf("TrailingZeros %d, raw equal %v", sd.TrailingZeros, bytes.Equal(sd.Raw, der))
			}
			if sd.HasContent || sd.Content != nil || !sd.ContentType.Equal(OIDData) || sd.Version != 1 {
				t.Fatalf("encap: has %v type %v version %d", sd.HasContent, sd.ContentType, sd.Version)
			}
			if len(sd.Certificates) != 2 || !sd.Certificates[0].Equal(p.leaf) || !sd.Certificates[1].Equal(p.inter) {
				t.Fatal("certificates are not the chain, leaf first")
			}
			si, err := sd.Signer()
			if err != nil {
				t.Fatal(err)
			}
			if si.SignatureAlgorithm.Name != c.alg {
				t.Fatalf("signature algorithm %s, want %s", si.SignatureAlgorithm.Name, c.alg)
			}
			cert, err := si.Verify(sd, digestOf(c.hash, data))
			if err != nil {
				t.Fatal(err)
			}
			if !cert.Equal(p.leaf) {
				t.Fatal("Verify returned another certificate")
			}
			sv, err := SignatureValue(padded)
			if err != nil || !bytes.Equal(sv, si.Signature) {
				t.Fatalf("SignatureValue: %v", err)
			}
		})
	}
}

// TestBaselineBAttributes checks the exact PAdES B-B signed attribute set.
func TestBaselineBAttributes(t *testing.T) {
	for _, h := range []crypto.Hash{crypto.SHA256, crypto.SHA384} {
		t.Run(h.String(), func(t *testing.T) {
			p := getPKI(t, "p256")
			data := []byte("content")
			sd, err := Parse(sign(t, p, h, data))
			if err != nil {
				t.Fatal(err)
			}
			si := sd.Signers[0]
			want := []asn1.ObjectIdentifier{OIDAttrContentType, OIDAttrMessageDigest, OIDAttrSigningCertV2}
			if len(si.SignedAttrs) != len(want) {
				t.Fatalf("%d signed attributes, want %d", len(si.SignedAttrs), len(want))
			}
			for _, w := range want {
				if !hasAttr(si.SignedAttrs, w) {
					t.Errorf("missing signed attribute %v", w)
				}
			}
			if hasAttr(si.SignedAttrs, OIDAttrSigningTime) || si.SigningTime != nil {
				t.Error("signing-time present: PAdES B-B forbids it")
			}
			if len(si.UnsignedAttrs) != 0 {
				t.Error("unsigned attributes present")
			}
			if si.Version != 1 || si.SID.Issuer == nil || !bytes.Equal(si.SID.Issuer, p.leaf.RawIssuer) || si.SID.Serial.Cmp(p.leaf.SerialNumber) != 0 {
				t.Error("SignerInfo is not version 1 with the leaf's issuerAndSerialNumber")
			}
			if si.DigestAlgorithm != h || !si.ContentType.Equal(OIDData) || !bytes.Equal(si.MessageDigest, digestOf(h, data)) {
				t.Error("digest algorithm, content-type or message-digest wrong")
			}
			// DER: the set is sorted and every attribute re-encodes identically.
			raws := [][]byte{}
			for _, a := range si.SignedAttrs {
				raws = append(raws, a.Raw)
			}
			resorted, _ := derSetOf(raws...)
			if !bytes.Equal(resorted, si.RawSignedAttrs) {
				t.Error("signed attributes are not in DER SET OF order")
			}
			id := si.SigningCertificateV2
			if id == nil || id.Hash != h || !bytes.Equal(id.CertHash, digestOf(h, p.leaf.Raw)) ||
				!bytes.Equal(id.Issuer, p.leaf.RawIssuer) || id.Serial.Cmp(p.leaf.SerialNumber) != 0 {
				t.Fatalf("signing-certificate-v2 wrong: %+v", id)
			}
			// hashAlgorithm is omitted exactly when it is the SHA-256 default.
			v := findAttr(si.SignedAttrs, OIDAttrSigningCertV2).Values[0]
			var scv2 struct {
				Certs []struct {
					Hash asn1.RawValue
				}
			}
			if _, err := asn1.UnmarshalWithParams(v, &scv2, ""); err != nil {
				t.Fatal(err)
			}
			first := scv2.Certs[0].Hash
			if omitted := first.Tag == asn1.TagOctetString; omitted != (h == crypto.SHA256) {
				t.Errorf("hashAlgorithm omitted=%v for %v", omitted, h)
			}
		})
	}
}

func hasAttr(as []Attribute, oid asn1.ObjectIdentifier) bool { return findAttr(as, oid) != nil }

func findAttr(as []Attribute, oid asn1.ObjectIdentifier) *Attribute {
	for i := range as {
		if as[i].Type.Equal(oid) {
			return &as[i]
		}
	}
	return nil
}

func TestVerifyFailures(t *testing.T) {
	p := getPKI(t, "p256")
	data := []byte("the signed bytes")
	der := sign(t, p, crypto.SHA256, data)
	digest := digestOf(crypto.SHA256, data)

	verify := func(der []byte, mutate func(*SignedData), digest []byte) error {
		t.Helper()
		sd, err := Parse(der)
		if err != nil {
			return err
		}
		if mutate != nil {
			mutate(sd)
		}
		_, err = sd.Signers[0].Verify(sd, digest)
		return err
	}
	// Another leaf from the same intermediate with the same serial: the SID matches, the key
	// and the signing-certificate-v2 hash do not.
	twinKey := newKey(t, "p256")
	tmpl := *p.leaf
	twin := mustCert(t, &tmpl, p.inter, twinKey.Public(), p.interKey)
	other := getPKI(t, "p384")

	flipped := bytes.Clone(der)
	sd, _ := Parse(der)
	i := bytes.Index(flipped, sd.Signers[0].Signature)
	flipped[i+len(sd.Signers[0].Signature)-1] ^= 1

	cases := []struct {
		name   string
		der    []byte
		mutate func(*SignedData)
		digest []byte
		want   error
	}{
		{"ok", der, nil, digest, nil},
		{"tampered content", der, nil, digestOf(crypto.SHA256, []byte("the signed bytez")), ErrDigestMismatch},
		{"short digest", der, nil, digest[:20], ErrDigestMismatch},
		{"flipped signature byte", flipped, nil, digest, ErrBadSignature},
		{"signer certificate missing", der, func(sd *SignedData) { sd.Certificates = sd.Certificates[1:] }, digest, ErrSignerNotFound},
		{"wrong certificate", der, func(sd *SignedData) { sd.Certificates = []*x509.Certificate{other.leaf} }, digest, ErrSignerNotFound},
		{"twin certificate", der, func(sd *SignedData) { sd.Certificates = []*x509.Certificate{twin} }, digest, ErrSigningCertificate},
		{"ambiguous signer", der, func(sd *SignedData) { sd.Certificates = append(sd.Certificates, twin) }, digest, ErrMalformed},
		{"SHA-1 digest algorithm", der, func(sd *SignedData) { sd.Signers[0].DigestAlgorithm = crypto.SHA1 }, digest, ErrWeakAlgorithm},
		{"MD5 digest algorithm", der, func(sd *SignedData) { sd.Signers[0].DigestAlgorithm = crypto.MD5 }, digest, ErrWeakAlgorithm},
		{"unknown digest algorithm", der, func(sd *SignedData) { sd.Signers[0].DigestAlgorithm = 0 }, digest, ErrUnsupportedAlg},
		{"ecdsa-with-SHA1", der, func(sd *SignedData) { sd.Signers[0].SignatureAlgorithm.OID = oidECDSAWithSHA1 }, digest, ErrWeakAlgorithm},
		// The signature algorithm is not signed: relabelled with another strong hash, the
		// signature still verifies over the same attributes with digestAlgorithm (iText's
		// rule, tried after BouncyCastle's).
		{"signature hash differs", der, func(sd *SignedData) { sd.Signers[0].SignatureAlgorithm.OID = oidECDSAWithSHA384 }, digest, nil},
		{"RSA algorithm on EC key", der, func(sd *SignedData) { sd.Signers[0].SignatureAlgorithm.OID = oidSHA256WithRSA }, digest, ErrBadSignature},
		{"unknown signature algorithm", der, func(sd *SignedData) { sd.Signers[0].SignatureAlgorithm.OID = oidDSA }, digest, ErrUnsupportedAlg},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := verify(c.der, c.mutate, c.digest)
			if c.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestSignRefusals(t *testing.T) {
	p := getPKI(t, "p256")
	other := getPKI(t, "p384")
	weak := makePKI(t, newKey(t, "rsa1024"), "weak")
	d := digestOf(crypto.SHA256, []byte("x"))
	cases := []struct {
		name   string
		opt    SignOptions
		digest []byte
		want   error
		code   string
	}{
		{"SHA-1", p.opts(crypto.SHA1), digestOf(crypto.SHA1, []byte("x")), ErrWeakAlgorithm, chungthuc.EUNSUPPORTED},
		{"MD5", p.opts(crypto.MD5), digestOf(crypto.MD5, []byte("x")), ErrWeakAlgorithm, chungthuc.EUNSUPPORTED},
		{"SHA-224", p.opts(crypto.SHA224), digestOf(crypto.SHA224, []byte("x")), ErrUnsupported, chungthuc.EUNSUPPORTED},
		{"RSA-1024", weak.opts(0), d, ErrWeakAlgorithm, chungthuc.EUNSUPPORTED},
		{"key does not match certificate", SignOptions{Signer: other.key, Chain: p.chain()}, d, ErrInvalidOptions, chungthuc.EINVALID},
		{"no signer", SignOptions{Chain: p.chain()}, d, ErrInvalidOptions, chungthuc.EINVALID},
		{"no chain", SignOptions{Signer: p.key}, d, ErrInvalidOptions, chungthuc.EINVALID},
		{"nil certificate", SignOptions{Signer: p.key, Chain: []*x509.Certificate{p.leaf, nil}}, d, ErrInvalidOptions, chungthuc.EINVALID},
		{"digest length", p.opts(crypto.SHA384), d, ErrInvalidOptions, chungthuc.EINVALID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var cs *countingSigner
			if c.opt.Signer != nil {
				cs = &countingSigner{Signer: c.opt.Signer}
				c.opt.Signer = cs
			}
			_, err := SignDetached(c.digest, c.opt)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if code := chungthuc.ErrorCode(err); code != c.code {
				t.Fatalf("code %q, want %q", code, c.code)
			}
			if cs != nil && cs.calls.Load() != 0 {
				t.Fatal("the key was used although the options were refused")
			}
		})
	}
	if MaxSizeWithExtra(p.opts(crypto.SHA1), 0) != 0 {
		t.Error("MaxSizeWithExtra of unusable options is not 0")
	}
}

type failingSigner struct {
	crypto.Signer
	err error
	sig []byte
}

func (f failingSigner) Sign(_ io.Reader, _ []byte, _ crypto.SignerOpts) ([]byte, error) {
	return f.sig, f.err
}

func TestSignerFailures(t *testing.T) {
	p := getPKI(t, "rsa2048")
	d := digestOf(crypto.SHA256, []byte("x"))
	down := chungthuc.Errorf(chungthuc.EUNAVAILABLE, "token removed")
	opt := p.opts(0)
	opt.Signer = failingSigner{Signer: p.key, err: down}
	_, err := SignDetached(d, opt)
	if !errors.Is(err, ErrSignerFailed) || !errors.Is(err, down) || chungthuc.ErrorCode(err) != chungthuc.EUNAVAILABLE {
		t.Fatalf("signer error: %v (code %s)", err, chungthuc.ErrorCode(err))
	}
	garbage := make([]byte, 256)
	rand.Read(garbage)
	opt.Signer = failingSigner{Signer: p.key, sig: garbage}
	if _, err := SignDetached(d, opt); !errors.Is(err, ErrSignerFailed) {
		t.Fatalf("garbage signature: %v", err)
	}
}

func TestParseTrailingAndLimits(t *testing.T) {
	p := getPKI(t, "p256")
	der := sign(t, p, 0, []byte("x"))
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"exact", der, nil},
		{"zero padding", append(bytes.Clone(der), 0, 0, 0), nil},
		{"garbage after", append(bytes.Clone(der), 0, 0, 1), ErrMalformed},
		{"truncated", der[:len(der)-1], ErrMalformed},
		{"empty", nil, ErrMalformed},
		{"all zeros", make([]byte, 100), ErrMalformed},
		{"too large", append(bytes.Clone(der), make([]byte, MaxDERSize)...), ErrTooLarge},
		{"BER indefinite length", append([]byte{0x30, 0x80}, append(der[2:], 0, 0)...), ErrMalformed},
		{"deep nesting", bytes.Repeat([]byte{0x30, 0x80}, 10000), ErrMalformed},
		{"huge declared length", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x06}, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.in)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestAddUnsignedAttribute(t *testing.T) {
	for _, kind := range []string{"p256", "rsa2048"} {
		t.Run(kind, func(t *testing.T) {
			p := getPKI(t, kind)
			data := []byte("x")
			der := sign(t, p, 0, data)
			// A stand-in token: any DER element; a real one is a ContentInfo.
			token, _ := asn1.Marshal(struct {
				OID  asn1.ObjectIdentifier
				Blob []byte
			}{OIDSignedData, bytes.Repeat([]byte{0xab}, 3000)})
			out, err := AddUnsignedAttribute(append(der, 0, 0), OIDAttrTimeStampToken, token)
			if err != nil {
				t.Fatal(err)
			}
			if max := MaxSizeWithExtra(p.opts(0), len(token)); len(out) > max || max-len(out) > 200 {
				t.Fatalf("MaxSizeWithExtra %d, actual %d", max, len(out))
			}
			sd, err := Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			si := sd.Signers[0]
			if !bytes.Equal(si.TimestampToken, token) {
				t.Fatal("timestamp token not found")
			}
			if _, err := si.Verify(sd, digestOf(0, data)); err != nil {
				t.Fatal(err)
			}
			// A second attribute keeps the first and the set stays DER-sorted.
			other, _ := asn1.Marshal("note")
			out2, err := AddUnsignedAttribute(out, asn1.ObjectIdentifier{1, 2, 3}, other)
			if err != nil {
				t.Fatal(err)
			}
			sd2, err := Parse(out2)
			if err != nil {
				t.Fatal(err)
			}
			if len(sd2.Signers[0].UnsignedAttrs) != 2 || !bytes.Equal(sd2.Signers[0].TimestampToken, token) {
				t.Fatal("attributes lost")
			}
			if !sd2.Signers[0].UnsignedAttrs[0].Type.Equal(asn1.ObjectIdentifier{1, 2, 3}) {
				t.Fatal("unsigned attributes are not DER-sorted")
			}
			if _, err := AddUnsignedAttribute(der, OIDAttrTimeStampToken, append(token, 0)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("trailing byte in value: %v", err)
			}
		})
	}
}

func TestErrorCodes(t *testing.T) {
	_, err := Parse([]byte{1, 2, 3})
	if chungthuc.ErrorCode(err) != chungthuc.EINVALID || chungthuc.ErrorMessage(err) == "Internal error." {
		t.Fatalf("malformed: code %q message %q", chungthuc.ErrorCode(err), chungthuc.ErrorMessage(err))
	}
	_, err = Parse(make([]byte, MaxDERSize+1))
	if chungthuc.ErrorCode(err) != chungthuc.ETOOLARGE {
		t.Fatalf("too large: %v", err)
	}
	if !errors.Is(err, ErrTooLarge) || errors.Is(err, ErrMalformed) {
		t.Fatal("sentinel matching is wrong")
	}
	var si SignerInfo
	if _, err := si.Verify(&SignedData{}, nil); !errors.Is(err, ErrSignerNotFound) {
		t.Fatalf("zero SignerInfo: %v", err)
	}
}

// TestAttachedContentReported checks that an attached (non-detached) signature is
// reported as such, so a PDF verifier can refuse it.
func TestAttachedContentReported(t *testing.T) {
	p := getPKI(t, "p256")
	ps, _ := pkcs7.NewSignedData([]byte("inside"))
	ps.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := ps.AddSigner(p.leaf, p.key, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	der, err := ps.Finish()
	if err != nil {
		t.Fatal(err)
	}
	sd, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if !sd.HasContent || string(sd.Content) != "inside" {
		t.Fatalf("HasContent %v Content %q", sd.HasContent, sd.Content)
	}
}
