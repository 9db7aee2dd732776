package cms

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/chungthuc/chungthuc/internal/bertest"
)

func keepSignedAttrs(path []byte) bool { return bytes.Equal(path, bertest.SignerInfoSignedAttrs) }

// TestParseBER: our own signatures re-encoded the ways BER producers write them parse to
// the same SignedData and verify; the normalised encoding is the original DER.
func TestParseBER(t *testing.T) {
	data := []byte("%PDF-1.7 the signed byte ranges")
	for _, kind := range []string{"p256", "rsa2048"} {
		p := getPKI(t, kind)
		der := sign(t, p, 0, data)
		withTS, err := AddUnsignedAttribute(der, OIDAttrTimeStampToken, []byte{0x04, 0x03, 1, 2, 3})
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name       string
			in         []byte
			reencoded  bool // the signed attributes arrived in BER
			sameAsDER  []byte
			trailZeros int
		}{
			{"indefinite everywhere", bertest.Encode(der, bertest.Options{}), true, der, 0},
			{"BouncyCastle style: signed attributes kept DER", bertest.Encode(der, bertest.Options{KeepDER: keepSignedAttrs}), false, der, 0},
			{"long-form lengths", bertest.Encode(der, bertest.Options{LongLengths: true}), true, der, 0},
			{"with a time-stamp attribute, padded", append(bertest.Encode(withTS, bertest.Options{KeepDER: keepSignedAttrs}), make([]byte, 300)...), false, withTS, 300},
		}
		for _, c := range cases {
			t.Run(kind+"/"+c.name, func(t *testing.T) {
				if bytes.Equal(c.in, c.sameAsDER) {
					t.Fatal("the test input is DER")
				}
				sd, err := Parse(c.in)
				if err != nil {
					t.Fatal(err)
				}
				if !sd.BER || !bytes.Equal(sd.Raw, c.sameAsDER) || sd.TrailingZeros != c.trailZeros {
					t.Fatalf("BER %v, raw equal %v, trailing %d", sd.BER, bytes.Equal(sd.Raw, c.sameAsDER), sd.TrailingZeros)
				}
				si := sd.Signers[0]
				if si.SignedAttrsReencoded != c.reencoded {
					t.Fatalf("SignedAttrsReencoded %v, want %v", si.SignedAttrsReencoded, c.reencoded)
				}
				ref, _ := Parse(c.sameAsDER)
				if !bytes.Equal(si.RawSignedAttrs, ref.Signers[0].RawSignedAttrs) {
					t.Fatal("the signed attributes to hash differ from the DER ones")
				}
				if _, err := si.Verify(sd, digestOf(0, data)); err != nil {
					t.Fatal(err)
				}
				if _, err := si.Verify(sd, digestOf(0, append(data, 'x'))); !errors.Is(err, ErrDigestMismatch) {
					t.Fatalf("other content: %v", err)
				}
				v, err := SignatureValue(c.in)
				if err != nil || !bytes.Equal(v, si.Signature) {
					t.Fatalf("SignatureValue: %v", err)
				}
				// A time-stamp can be added to a BER signature whose signed attributes came
				// as DER; the result is DER.
				out, err := AddUnsignedAttribute(c.in, asn1.ObjectIdentifier{1, 2, 3}, []byte{5, 0})
				if c.reencoded {
					if !errors.Is(err, ErrUnsupported) {
						t.Fatalf("AddUnsignedAttribute on BER signed attributes: %v", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				sd2, err := Parse(out)
				if err != nil || sd2.BER {
					t.Fatalf("result: %v (BER %v)", err, sd2 != nil && sd2.BER)
				}
				if _, err := sd2.Signers[0].Verify(sd2, digestOf(0, data)); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// signAttrs signs a SignerInfo whose signed attributes are attrs, in the given order (not
// sorted), over a detached content with digest contentDigest; the signature covers the
// SET exactly as written. It returns the DER.
func signAttrs(t *testing.T, p *testPKI, attrs ...[]byte) []byte {
	t.Helper()
	pl, err := plan(p.opts(0))
	if err != nil {
		t.Fatal(err)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddBytes(a)
		}
	})
	set := b.BytesOrPanic()
	h := crypto.SHA256.New()
	h.Write(set)
	sig, err := p.key.Sign(rand.Reader, h.Sum(nil), crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	der, err := pl.build(set, sig, nil)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func attr(t *testing.T, oid asn1.ObjectIdentifier, values ...any) []byte {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			for _, v := range values {
				if raw, ok := v.([]byte); ok {
					b.AddBytes(raw)
					continue
				}
				enc, err := asn1.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				b.AddBytes(enc)
			}
		})
	})
	return b.BytesOrPanic()
}

// TestSignedAttributesEncodingRule: the signature is checked over the received bytes when
// the signed attributes arrive with DER lengths (in any order), and over their sorted DER
// encoding when they arrive in BER (RFC 5652 5.4; what BouncyCastle and OpenSSL do).
func TestSignedAttributesEncodingRule(t *testing.T) {
	p := getPKI(t, "p256")
	data := []byte("content")
	pl, _ := plan(p.opts(0))
	scv2, _ := pl.signingCertificateV2()
	md, _ := asn1.Marshal(digestOf(0, data))
	ct := attr(t, OIDAttrContentType, OIDData)
	mdA := attr(t, OIDAttrMessageDigest, md)
	ess := attr(t, OIDAttrSigningCertV2, scv2)
	sorted, _ := derSetOf(ct, mdA, ess)
	if bytes.Equal(sorted, append([]byte{0x31, byte(len(ct) + len(mdA) + len(ess))}, append(append(append([]byte{}, ess...), ct...), mdA...)...)) {
		t.Fatal("the test order is the DER order")
	}
	unsorted := signAttrs(t, p, ess, ct, mdA) // signed as sent, in non-DER order

	sd, err := Parse(unsorted)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sd.Signers[0].Verify(sd, digestOf(0, data)); err != nil {
		t.Fatalf("DER lengths, unsorted, signed as received: %v", err)
	}
	// The same in BER: what counts now is the DER encoding, which sorts; the signer
	// signed the unsorted bytes, so the signature does not verify.
	ber := bertest.Encode(unsorted, bertest.Options{})
	sd, err = Parse(ber)
	if err != nil {
		t.Fatal(err)
	}
	if !sd.Signers[0].SignedAttrsReencoded || !bytes.Equal(sd.Signers[0].RawSignedAttrs, sorted) {
		t.Fatal("BER signed attributes not re-encoded as sorted DER")
	}
	if _, err := sd.Signers[0].Verify(sd, digestOf(0, data)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("BER unsorted attributes signed unsorted: %v", err)
	}
	// A signer that signed the DER (sorted) but sent the attributes in BER, unsorted:
	// verified over the DER, as BouncyCastle does.
	good := sign(t, p, 0, data)
	gsd, _ := Parse(good)
	gsi := gsd.Signers[0]
	var reordered [][]byte
	for i := len(gsi.SignedAttrs) - 1; i >= 0; i-- {
		reordered = append(reordered, gsi.SignedAttrs[i].Raw)
	}
	var b cryptobyte.Builder
	b.AddASN1(tagCtx0, func(b *cryptobyte.Builder) {
		for _, a := range reordered {
			b.AddBytes(a)
		}
	})
	newAttrs := b.BytesOrPanic()
	oldAttrs := append([]byte{0xa0}, gsi.RawSignedAttrs[1:]...)
	swapped := bytes.Replace(good, oldAttrs, newAttrs, 1)
	if bytes.Equal(swapped, good) {
		t.Fatal("attributes not swapped")
	}
	sd, err = Parse(bertest.Encode(swapped, bertest.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sd.Signers[0].Verify(sd, digestOf(0, data)); err != nil {
		t.Fatalf("DER-signed attributes sent as unsorted BER: %v", err)
	}
}

// TestRepeatedSignedAttributes: what repeats is accepted when it cannot be ambiguous.
func TestRepeatedSignedAttributes(t *testing.T) {
	p := getPKI(t, "p256")
	other := getPKI(t, "p384")
	data := []byte("content")
	pl, _ := plan(p.opts(0))
	scv2, _ := pl.signingCertificateV2()
	opl, _ := plan(other.opts(0))
	otherSCV2, _ := opl.signingCertificateV2()
	md, _ := asn1.Marshal(digestOf(0, data))
	mdOther, _ := asn1.Marshal(digestOf(0, []byte("other")))
	ct := attr(t, OIDAttrContentType, OIDData)
	mdA := attr(t, OIDAttrMessageDigest, md)
	ess := attr(t, OIDAttrSigningCertV2, scv2)
	note := attr(t, asn1.ObjectIdentifier{1, 2, 3, 4}, "ghi chú")
	when := attr(t, OIDAttrSigningTime, asn1.RawValue{Tag: asn1.TagUTCTime, Bytes: []byte("260310090000Z")})
	cases := []struct {
		name     string
		attrs    [][]byte
		parseErr error
		verify   error
		repeated int
	}{
		{"signing-certificate-v2 twice, same certificate", [][]byte{ct, mdA, ess, ess}, nil, nil, 1},
		{"unknown attribute twice", [][]byte{ct, mdA, ess, note, note}, nil, nil, 1},
		{"signing-certificate-v2 twice, another certificate", [][]byte{ct, mdA, ess, attr(t, OIDAttrSigningCertV2, otherSCV2)}, nil, ErrSigningCertificate, 1},
		{"message-digest twice, same value", [][]byte{ct, mdA, mdA, ess}, ErrMalformed, nil, 0},
		{"message-digest twice, two values", [][]byte{ct, mdA, attr(t, OIDAttrMessageDigest, mdOther), ess}, ErrMalformed, nil, 0},
		{"message-digest with two values", [][]byte{ct, attr(t, OIDAttrMessageDigest, md, mdOther), ess}, ErrMalformed, nil, 0},
		{"content-type twice", [][]byte{ct, ct, mdA, ess}, ErrMalformed, nil, 0},
		{"signing-time twice", [][]byte{ct, mdA, ess, when, when}, ErrMalformed, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sd, err := Parse(signAttrs(t, p, c.attrs...))
			if c.parseErr != nil {
				if !errors.Is(err, c.parseErr) {
					t.Fatalf("Parse: %v, want %v", err, c.parseErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			si := sd.Signers[0]
			if len(si.RepeatedAttrs) != c.repeated {
				t.Fatalf("RepeatedAttrs %v", si.RepeatedAttrs)
			}
			_, err = si.Verify(sd, digestOf(0, data))
			if c.verify == nil && err != nil || c.verify != nil && !errors.Is(err, c.verify) {
				t.Fatalf("Verify: %v, want %v", err, c.verify)
			}
		})
	}
}

// TestParseOpenSSLStreamingBER verifies what a real BER producer writes: `openssl cms
// -sign -stream` (indefinite lengths, the content as a constructed OCTET STRING of chunks;
// in streaming mode OpenSSL always encapsulates the content).
func TestParseOpenSSLStreamingBER(t *testing.T) {
	o := newOpenSSL(t)
	data := bytes.Repeat([]byte("Bản sao được chứng thực từ bản chính.\n"), 200) // several chunks
	for _, kind := range []string{"p256", "rsa2048"} {
		t.Run(kind, func(t *testing.T) {
			o := o.in(t)
			p := getPKI(t, kind)
			key, leaf, inter := o.pki(p)
			o.run("cms", "-sign", "-binary", "-stream", "-outform", "DER", "-in", o.file("data", data),
				"-signer", leaf, "-inkey", key, "-certfile", inter, "-md", "sha256", "-out", o.path("sig.ber"))
			ber := o.read("sig.ber")
			if ber[1] != 0x80 || !bytes.Contains(ber, []byte{0x24, 0x80}) {
				t.Fatalf("openssl wrote %x…, not BER with a constructed OCTET STRING", ber[:4])
			}
			sd, err := Parse(ber)
			if err != nil {
				t.Fatal(err)
			}
			if !sd.BER || !sd.HasContent || !bytes.Equal(sd.Content, data) {
				t.Fatalf("BER %v, content %v (%d bytes)", sd.BER, sd.HasContent, len(sd.Content))
			}
			si, err := sd.Signer()
			if err != nil {
				t.Fatal(err)
			}
			if si.SignedAttrsReencoded {
				t.Fatal("openssl's signed attributes are DER, yet were re-encoded")
			}
			if _, err := si.Verify(sd, digestOf(crypto.SHA256, data)); err != nil {
				t.Fatal(err)
			}
			if _, err := si.Verify(sd, digestOf(crypto.SHA256, data[1:])); !errors.Is(err, ErrDigestMismatch) {
				t.Fatalf("other content: %v", err)
			}
		})
	}
}

// TestBERHostile: malformed and oversized BER fails cleanly.
func TestBERHostile(t *testing.T) {
	p := getPKI(t, "p256")
	ber := bertest.Encode(sign(t, p, 0, []byte("x")), bertest.Options{})
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"deep indefinite nesting", bytes.Repeat([]byte{0x30, 0x80}, 10000), ErrMalformed},
		{"nesting just too deep", append(bytes.Repeat([]byte{0x30, 0x80}, maxBERDepth+2), bytes.Repeat([]byte{0, 0}, maxBERDepth+2)...), ErrMalformed},
		{"no end-of-contents", ber[:len(ber)-2], ErrMalformed},
		{"end-of-contents in a definite length", []byte{0x30, 0x04, 0x00, 0x00, 0x05, 0x00}, ErrMalformed},
		{"indefinite primitive", []byte{0x04, 0x80, 0x01, 0x00, 0x00}, ErrMalformed},
		{"constructed OCTET STRING holding an INTEGER", []byte{0x30, 0x80, 0x24, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00}, ErrMalformed},
		{"five-byte length", []byte{0x30, 0x85, 0, 0, 0, 0, 1, 0}, ErrMalformed},
		{"high tag number in long form below 31", []byte{0x3f, 0x05, 0x80, 0x00, 0x00}, ErrMalformed},
		{"child longer than its parent", []byte{0x30, 0x80, 0x30, 0x03, 0x02, 0x05, 0x00, 0x00}, ErrMalformed},
		{"many empty elements", append(append([]byte{0x30, 0x80}, bytes.Repeat([]byte{0x05, 0x00}, maxBERNodes)...), 0, 0), ErrMalformed},
		{"garbage after the BER", append(bytes.Clone(ber), 0, 1), ErrMalformed},
		{"BER that is no SignedData", []byte{0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00}, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Parse(c.in); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
	// NormalizeBER keeps DER as it is.
	der := sign(t, p, 0, []byte("y"))
	out, n, err := NormalizeBER(append(bytes.Clone(der), 0, 0))
	if err != nil || n != len(der) || !bytes.Equal(out, der) {
		t.Fatalf("DER changed: %v n=%d", err, n)
	}
	if _, _, err := NormalizeBER(make([]byte, MaxDERSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized: %v", err)
	}
}

// openssl is a scratch directory for running the openssl command line.
type openssl struct {
	t   *testing.T
	bin string
	dir string
}

func newOpenSSL(t *testing.T) *openssl {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed: apt-get install -y openssl to run this independent check")
	}
	return &openssl{t: t, bin: bin, dir: t.TempDir()}
}

func (o *openssl) path(name string) string { return filepath.Join(o.dir, name) }

func (o *openssl) file(name string, b []byte) string {
	o.t.Helper()
	if err := os.WriteFile(o.path(name), b, 0o600); err != nil {
		o.t.Fatal(err)
	}
	return o.path(name)
}

func (o *openssl) read(name string) []byte {
	o.t.Helper()
	b, err := os.ReadFile(o.path(name))
	if err != nil {
		o.t.Fatal(err)
	}
	return b
}

func (o *openssl) run(args ...string) string {
	o.t.Helper()
	out, err := exec.Command(o.bin, args...).CombinedOutput()
	if err != nil {
		o.t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// pki writes p's leaf key (PKCS#8), leaf and intermediate certificates and returns their
// paths.
func (o *openssl) pki(p *testPKI) (key, leaf, inter string) {
	o.t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(p.key)
	if err != nil {
		o.t.Fatal(err)
	}
	key = o.file("key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	leaf = o.file("leaf.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.leaf.Raw}))
	inter = o.file("inter.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.inter.Raw}))
	return key, leaf, inter
}
