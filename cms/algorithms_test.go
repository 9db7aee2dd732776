package cms

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha3"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// TestForeignAlgorithms: signatures made by openssl with algorithms beyond what we sign
// with. SHA-3 verifies; DSA, brainpool, Ed448 and RSASSA-PSS parameters crypto/rsa cannot
// check are ErrUnsupportedAlg — never ErrMalformed.
func TestForeignAlgorithms(t *testing.T) {
	o := newOpenSSL(t)
	data := []byte("Chứng thực bản sao từ bản chính: thuật toán lạ.\n")
	in := o.file("data", data)
	// newLeaf makes an openssl key of the given -newkey spec and a self-signed certificate.
	newLeaf := func(name string, newkey ...string) (key, cert string) {
		key, cert = o.path(name+".key"), o.path(name+".pem")
		o.run(append(append([]string{"req", "-x509"}, newkey...), "-nodes", "-keyout", key, "-out", cert,
			"-subj", "/CN="+name+"/C=VN", "-days", "2")...)
		return key, cert
	}
	rsaKey, rsaCert := newLeaf("rsa", "-newkey", "rsa:2048")
	ecKey, ecCert := newLeaf("p384", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384")
	bpKey, bpCert := newLeaf("brainpool", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:brainpoolP256r1")
	o.run("genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:2048", "-out", o.path("dsa.params"))
	dsaKey, dsaCert := newLeaf("dsa", "-newkey", "dsa:"+o.path("dsa.params"))

	cases := []struct {
		name      string
		key, cert string
		md        crypto.Hash
		flags     []string
		want      error
		detail    string // in the error
	}{
		{"RSA with SHA3-256", rsaKey, rsaCert, crypto.SHA3_256, []string{"-md", "sha3-256"}, nil, ""},
		{"RSA with SHA3-512, no signed attributes", rsaKey, rsaCert, crypto.SHA3_512, []string{"-md", "sha3-512", "-noattr"}, nil, ""},
		{"ECDSA P-384 with SHA-384", ecKey, ecCert, crypto.SHA384, []string{"-md", "sha384"}, nil, ""},
		{"RSASSA-PSS with MGF1-SHA512 over SHA-256", rsaKey, rsaCert, crypto.SHA256, []string{"-md", "sha256", "-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_mgf1_md:sha512"}, ErrUnsupportedAlg, "MGF1"},
		{"ECDSA brainpoolP256r1", bpKey, bpCert, crypto.SHA256, []string{"-md", "sha256"}, ErrUnsupportedAlg, "brainpoolP256r1"},
		{"DSA", dsaKey, dsaCert, crypto.SHA256, []string{"-md", "sha256"}, ErrUnsupportedAlg, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := o.in(t)
			o.run(append([]string{"cms", "-sign", "-binary", "-outform", "DER", "-in", in, "-signer", c.cert, "-inkey", c.key, "-out", o.path("sig.der")}, c.flags...)...)
			sd, err := Parse(o.read("sig.der"))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			si, err := sd.Signer()
			if err != nil {
				t.Fatal(err)
			}
			_, err = si.Verify(sd, digestOf(c.md, data))
			if c.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := si.Verify(sd, digestOf(c.md, append(data, '!'))); !errors.Is(err, ErrDigestMismatch) && !errors.Is(err, ErrBadSignature) {
					t.Fatalf("other content: %v", err)
				}
				return
			}
			if !errors.Is(err, c.want) || errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), c.detail) {
				t.Fatalf("got %v, want %v (%s)", err, c.want, c.detail)
			}
		})
	}
}

// id-shake256 (RFC 8419 3.1: the digest algorithm of Ed448, with 512-bit output).
var oidSHAKE256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 12}

// TestEd448Signer: a genuine Ed448 signature (RFC 8419: SHAKE256/512 message digest, the
// signature over the signed attributes by `openssl pkeyutl`, as OpenSSL 3.0's cms command
// cannot sign with EdDSA) is ErrUnsupportedAlg, with the certificate still named.
func TestEd448Signer(t *testing.T) {
	o := newOpenSSL(t)
	key, certPath := o.path("ed448.key"), o.path("ed448.pem")
	o.run("req", "-x509", "-newkey", "ed448", "-nodes", "-keyout", key, "-out", certPath, "-subj", "/CN=Ed448 signer", "-days", "2")
	blk, _ := pem.Decode(o.read("ed448.pem"))
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatalf("crypto/x509 refuses the Ed448 certificate: %v", err)
	}
	data := []byte("content")
	md := make([]byte, 64)
	h := sha3.NewSHAKE256()
	h.Write(data)
	h.Read(md)
	mdv, _ := asn1.Marshal(md)
	scv2 := certIDv2(t, cert)
	set, _ := derSetOf(attr(t, OIDAttrContentType, OIDData), attr(t, OIDAttrMessageDigest, mdv), attr(t, OIDAttrSigningCertV2, scv2))
	o.file("attrs.der", set)
	o.run("pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", o.path("attrs.der"), "-out", o.path("sig.bin"))
	sig := o.read("sig.bin")
	if len(sig) != 114 {
		t.Fatalf("Ed448 signature of %d bytes", len(sig))
	}
	// The signature is genuine: openssl verifies it over the signed attributes.
	o.run("pkeyutl", "-verify", "-rawin", "-pubin", "-inkey", o.pubkey(certPath), "-in", o.path("attrs.der"), "-sigfile", o.path("sig.bin"))
	der := assemble(t, cert, set, sig, func(b *cryptobyte.Builder) { addAlgorithm(b, oidSHAKE256, false) }, oidEd448)

	sd, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sd.Signers[0].Verify(sd, md)
	if !errors.Is(err, ErrUnsupportedAlg) {
		t.Fatalf("got %v, want ErrUnsupportedAlg", err)
	}
	if _, err := sd.Signers[0].Certificate(sd); err != nil || got != nil && !got.Equal(cert) {
		t.Fatalf("certificate: %v", err)
	}
	// Even with a digest algorithm we know, the Ed448 key is what we cannot verify.
	sd.Signers[0].DigestAlgorithm = crypto.SHA512
	if _, err := sd.Signers[0].Verify(sd, digestOf(crypto.SHA512, data)); !errors.Is(err, ErrUnsupportedAlg) {
		t.Fatalf("Ed448 key: %v", err)
	}
}

// TestECDSAWithSHA3: id-ecdsa-with-sha3-* verifies (OpenSSL 3.0 cannot sign it in CMS, so
// the SignedData is assembled here around a crypto/ecdsa signature).
func TestECDSAWithSHA3(t *testing.T) {
	p := getPKI(t, "p384")
	data := []byte("content")
	md, _ := asn1.Marshal(digestOf(crypto.SHA3_384, data))
	set, _ := derSetOf(attr(t, OIDAttrContentType, OIDData), attr(t, OIDAttrMessageDigest, md), attr(t, OIDAttrSigningCertV2, certIDv2(t, p.leaf)))
	sig, err := p.key.Sign(rand.Reader, digestOf(crypto.SHA3_384, set), crypto.SHA3_384)
	if err != nil {
		t.Fatal(err)
	}
	der := assemble(t, p.leaf, set, sig, func(b *cryptobyte.Builder) { addAlgorithm(b, oidSHA3_384, false) }, oidECDSAWithSHA3_384)
	sd, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	si := sd.Signers[0]
	if si.DigestAlgorithm != crypto.SHA3_384 || si.SignatureAlgorithm.Name != "id-ecdsa-with-sha3-384" {
		t.Fatalf("algorithms %v %s", si.DigestAlgorithm, si.SignatureAlgorithm.Name)
	}
	if _, err := si.Verify(sd, digestOf(crypto.SHA3_384, data)); err != nil {
		t.Fatal(err)
	}
	if _, err := si.Verify(sd, digestOf(crypto.SHA3_384, []byte("other"))); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("other content: %v", err)
	}
}

// certIDv2 encodes SigningCertificateV2 with one SHA-256 ESSCertIDv2 for cert.
func certIDv2(t *testing.T, cert *x509.Certificate) []byte {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digestOf(crypto.SHA256, cert.Raw)) })
		})
	})
	return b.BytesOrPanic()
}

// assemble writes a detached SignedData by hand: one signer (issuerAndSerialNumber of cert),
// the given digest algorithm, signed attributes set (a DER SET), signature algorithm and
// value, and cert embedded.
func assemble(t *testing.T, cert *x509.Certificate, set, sig []byte, digestAlg func(*cryptobyte.Builder), sigAlg asn1.ObjectIdentifier) []byte {
	t.Helper()
	var si cryptobyte.Builder
	si.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(cert.RawIssuer)
			b.AddASN1BigInt(cert.SerialNumber)
		})
		digestAlg(b)
		b.AddASN1(tagCtx0, func(b *cryptobyte.Builder) { b.AddBytes(setContent(set)) })
		addAlgorithm(b, sigAlg, false)
		b.AddASN1OctetString(sig)
	})
	var head cryptobyte.Builder
	head.AddASN1Int64(1)
	head.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { digestAlg(b) })
	head.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(OIDData) })
	head.AddASN1(tagCtx0, func(b *cryptobyte.Builder) { b.AddBytes(cert.Raw) })
	der, err := wrapContentInfo(head.BytesOrPanic(), [][]byte{si.BytesOrPanic()})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(der, []byte{0x30}) {
		t.Fatal("bad assembly")
	}
	return der
}

// pubkey writes the public key of the certificate at certPath and returns its path.
func (o *openssl) pubkey(certPath string) string {
	o.t.Helper()
	out := o.path("pub.pem")
	o.run("x509", "-in", certPath, "-pubkey", "-noout", "-out", out)
	return out
}

// in returns o reporting to t (a subtest).
func (o *openssl) in(t *testing.T) *openssl { return &openssl{t: t, bin: o.bin, dir: o.dir} }

// TestSignatureHashDiffersFromDigest: digestAlgorithm SHA-384 (the message-digest) with
// sha256WithRSAEncryption (the signed attributes hashed with SHA-256), as iText's
// revDataInTheSignatureContainer has it and BouncyCastle verifies it.
func TestSignatureHashDiffersFromDigest(t *testing.T) {
	p := getPKI(t, "rsa2048")
	data := []byte("content")
	md, _ := asn1.Marshal(digestOf(crypto.SHA384, data))
	set, _ := derSetOf(attr(t, OIDAttrContentType, OIDData), attr(t, OIDAttrMessageDigest, md), attr(t, OIDAttrSigningCertV2, certIDv2(t, p.leaf)))
	sig, err := p.key.Sign(rand.Reader, digestOf(crypto.SHA256, set), crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	der := assemble(t, p.leaf, set, sig, func(b *cryptobyte.Builder) { addAlgorithm(b, oidSHA384, false) }, oidSHA256WithRSA)
	sd, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sd.Signers[0].Verify(sd, digestOf(crypto.SHA384, data)); err != nil {
		t.Fatal(err)
	}
	if _, err := sd.Signers[0].Verify(sd, digestOf(crypto.SHA384, []byte("other"))); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("other content: %v", err)
	}
	// Without signed attributes the content digest would have to be SHA-256: not
	// verifiable from the SHA-384 one the caller gives.
	si := sd.Signers[0]
	si.RawSignedAttrs = nil
	if _, err := si.Verify(sd, digestOf(crypto.SHA384, data)); !errors.Is(err, ErrUnsupportedAlg) {
		t.Fatalf("without signed attributes: %v", err)
	}
}
