package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"math/big"
	"testing"
)

// TestTwoStep signs outside the package (the key's Sign over the returned digest, as a
// token or a remote service would) and assembles: the result verifies and is the same
// structure SignDetached writes, for every key kind and hash.
func TestTwoStep(t *testing.T) {
	for _, c := range signCases {
		t.Run(caseName(c.kind, c.hash), func(t *testing.T) {
			p := getPKI(t, c.kind)
			data := []byte("nội dung được ký hai bước")
			md := digestOf(c.hash, data)
			opt := p.opts(c.hash)
			opt.Signer = nil
			attrs, digest, err := PrepareSignedAttributes(md, opt)
			if err != nil {
				t.Fatal(err)
			}
			h := c.hash
			if h == 0 {
				h = crypto.SHA256
			}
			if want := digestOf(h, attrs); !bytes.Equal(want, digest) {
				t.Fatal("the digest to sign is not the digest of the signed attributes")
			}
			sig, err := p.key.Sign(rand.Reader, digest, h)
			if err != nil {
				t.Fatal(err)
			}
			der, err := AssembleDetached(attrs, sig, opt)
			if err != nil {
				t.Fatal(err)
			}
			sd, err := Parse(der)
			if err != nil {
				t.Fatal(err)
			}
			si, err := sd.Signer()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := si.Verify(sd, md); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(si.RawSignedAttrs, attrs) && !bytes.Equal(si.RawSignedAttrs[1:], attrs[1:]) {
				t.Fatal("the CMS does not carry the prepared attributes")
			}
			// One step gives the same attributes (only an ECDSA signature value differs).
			one, err := SignDetached(md, p.opts(c.hash))
			if err != nil {
				t.Fatal(err)
			}
			sd1, _ := Parse(one)
			si1, _ := sd1.Signer()
			if !bytes.Equal(si1.RawSignedAttrs, si.RawSignedAttrs) {
				t.Fatal("one-step and two-step signed attributes differ")
			}
		})
	}
}

// TestTwoStepRawECDSA accepts the raw r||s form PKCS#11 tokens return and embeds DER.
func TestTwoStepRawECDSA(t *testing.T) {
	p := getPKI(t, "p256")
	opt := p.opts(0)
	attrs, digest, err := PrepareSignedAttributes(digestOf(crypto.SHA256, []byte("x")), opt)
	if err != nil {
		t.Fatal(err)
	}
	r, s, err := ecdsa.Sign(rand.Reader, p.key.(*ecdsa.PrivateKey), digest)
	if err != nil {
		t.Fatal(err)
	}
	raw := append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	der, err := AssembleDetached(attrs, raw, opt)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := SignatureValue(der)
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sv, &v); err != nil || len(rest) != 0 || v.R.Cmp(r) != 0 || v.S.Cmp(s) != 0 {
		t.Fatalf("embedded value is not the DER of r, s: %v", err)
	}
}

// TestTwoStepRefusals: nothing is assembled from a signature by another key, over other
// attributes, from attributes prepared for another certificate or hash, or from garbage.
func TestTwoStepRefusals(t *testing.T) {
	p := getPKI(t, "p256")
	other := getPKI(t, "rsa2048")
	opt := p.opts(0)
	md := digestOf(crypto.SHA256, []byte("bản chính"))
	attrs, digest, err := PrepareSignedAttributes(md, opt)
	if err != nil {
		t.Fatal(err)
	}
	good, err := p.key.Sign(rand.Reader, digest, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, _ := makePKI(t, newKey(t, "p256"), "Kẻ mạo danh").key.Sign(rand.Reader, digest, crypto.SHA256)
	otherAttrs, otherDigest, _ := PrepareSignedAttributes(digestOf(crypto.SHA256, []byte("bản khác")), opt)
	wrongDigest, _ := p.key.Sign(rand.Reader, otherDigest, crypto.SHA256)
	attrs384, _, _ := PrepareSignedAttributes(digestOf(crypto.SHA384, []byte("bản chính")), p.opts(crypto.SHA384))
	attrsOther, _, _ := PrepareSignedAttributes(md, other.opts(0))
	cases := []struct {
		name  string
		attrs []byte
		sig   []byte
		opt   SignOptions
		want  error
	}{
		{"wrong key", attrs, wrongKey, opt, ErrBadSignature},
		{"wrong digest", attrs, wrongDigest, opt, ErrBadSignature},
		{"signature of other attributes", otherAttrs, good, opt, ErrBadSignature},
		{"empty signature", attrs, nil, opt, ErrBadSignature},
		{"garbage signature", attrs, bytes.Repeat([]byte{0x30}, 64), opt, ErrBadSignature},
		{"attributes for another hash", attrs384, good, opt, ErrSigningCertificate},
		{"attributes for another certificate", attrsOther, good, opt, ErrSigningCertificate},
		{"not attributes", []byte{0x31, 0x03, 0x02, 0x01, 0x01}, good, opt, ErrSigningCertificate},
		{"not a set", []byte("xyz"), good, opt, ErrSigningCertificate},
		{"assembled for another certificate", attrs, good, other.opts(0), ErrSigningCertificate},
		{"no chain", attrs, good, SignOptions{}, ErrInvalidOptions},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			der, err := AssembleDetached(c.attrs, c.sig, c.opt)
			if !errors.Is(err, c.want) || der != nil {
				t.Fatalf("got %v (%d bytes), want %v", err, len(der), c.want)
			}
		})
	}
	if _, _, err := PrepareSignedAttributes(md[:20], opt); !errors.Is(err, ErrInvalidOptions) {
		t.Fatalf("short digest: %v", err)
	}
}
