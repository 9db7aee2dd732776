package cms

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/digitorus/pkcs7"
)

// FuzzParse feeds arbitrary bytes to Parse, Verify, SignatureValue and
// AddUnsignedAttribute: none may panic, every error must be a typed *Error, and adding an
// unsigned attribute must keep the signed parts byte for byte. Run it with
//
//	go test -run '^$' -fuzz FuzzParse -fuzztime 30s -fuzzminimizetime 50x ./cms
//
// (the default minimisation, 60 s per new input of a few KiB, stalls the workers).
func FuzzParse(f *testing.F) {
	// Real signatures (ours, ours with a token, pkcs7's attached ones, RSA and ECDSA) are
	// in testdata/fuzz/FuzzParse, written by TestFuzzSeeds (CMS_WRITE_FUZZ_SEEDS=1): generating keys here
	// would run again in every fuzz worker, instrumented, and starve it.
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x80, 0x00, 0x00})
	f.Add(bytes.Repeat([]byte{0x30, 0x81, 0x7f}, 50))

	f.Fuzz(func(t *testing.T, in []byte) {
		typed := func(err error) {
			var e *Error
			if err != nil && !errors.As(err, &e) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		}
		sd, err := Parse(in)
		typed(err)
		if err != nil {
			return
		}
		for i := range sd.Signers {
			si := &sd.Signers[i]
			d := []byte{1} // wrong length: every check before the message-digest one
			if h := si.DigestAlgorithm; h != 0 && h.Available() {
				d = make([]byte, h.Size())
				if si.MessageDigest != nil && len(si.MessageDigest) == len(d) {
					d = si.MessageDigest // reach the public-key operation
				}
			}
			_, err := si.Verify(sd, d)
			typed(err)
		}
		_, err = SignatureValue(in)
		typed(err)
		out, err := AddUnsignedAttribute(in, OIDAttrTimeStampToken, []byte{0x05, 0x00})
		typed(err)
		if err != nil {
			return
		}
		sd2, err := Parse(out)
		if err != nil {
			t.Fatalf("AddUnsignedAttribute output does not parse: %v", err)
		}
		a, b := sd.Signers[0], sd2.Signers[0]
		if !bytes.Equal(a.RawSignedAttrs, b.RawSignedAttrs) || !bytes.Equal(a.Signature, b.Signature) ||
			!bytes.Equal(sd.head, sd2.head) || len(b.UnsignedAttrs) != len(a.UnsignedAttrs)+1 {
			t.Fatal("AddUnsignedAttribute changed the signed parts")
		}
		if !hasAttr(b.UnsignedAttrs, OIDAttrTimeStampToken) {
			t.Fatal("attribute not added")
		}
	})
}

// TestFuzzSeeds guards the seed corpus of FuzzParse: every committed seed is a valid
// "go test fuzz v1" file, the real signatures among them (ours, ours with a token, pkcs7's
// attached ones, their BER forms) parse, and freshly made signatures of each kind parse too —
// so a change that breaks Parse on real input fails here, not only under -fuzz. With
// CMS_WRITE_FUZZ_SEEDS=1 it also rewrites the generated seeds in testdata/fuzz/FuzzParse.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	rewrite := os.Getenv("CMS_WRITE_FUZZ_SEEDS") == "1"
	if rewrite {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fresh := map[string][]byte{}
	for _, kind := range []string{"p256", "rsa2048"} {
		p := getPKI(t, kind)
		der, err := SignDetached(digestOf(0, []byte("x")), p.opts(0))
		if err != nil {
			t.Fatal(err)
		}
		fresh[kind+"-ours"] = der
		fresh[kind+"-padded"] = append(bytes.Clone(der), 0, 0, 0)
		withTS, err := AddUnsignedAttribute(der, OIDAttrTimeStampToken, []byte{0x30, 0x03, 0x02, 0x01, 0x05})
		if err != nil {
			t.Fatal(err)
		}
		fresh[kind+"-token"] = withTS
		sd, _ := pkcs7.NewSignedData([]byte("x"))
		sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
		if err := sd.AddSignerChain(p.leaf, p.key, nil, pkcs7.SignerInfoConfig{}); err != nil {
			t.Fatal(err)
		}
		foreign, err := sd.Finish() // not detached: has eContent, and signing-time
		if err != nil {
			t.Fatal(err)
		}
		fresh[kind+"-pkcs7"] = foreign
	}
	for name, b := range fresh {
		if name != "p256-padded" && name != "rsa2048-padded" {
			if _, err := Parse(b); err != nil {
				t.Errorf("fresh %s does not parse: %v", name, err)
			}
		}
		if rewrite {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		head, lit, ok := strings.Cut(strings.TrimSpace(string(raw)), "\n")
		if !ok || head != "go test fuzz v1" || !strings.HasPrefix(lit, "[]byte(") || !strings.HasSuffix(lit, ")") {
			t.Errorf("%s is not a fuzz seed file", e.Name())
			continue
		}
		b, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lit, "[]byte("), ")"))
		if err != nil {
			t.Errorf("%s: %v", e.Name(), err)
			continue
		}
		seen[e.Name()] = true
		if strings.Contains(e.Name(), "padded") {
			continue
		}
		if _, err := Parse([]byte(b)); err != nil {
			t.Errorf("committed seed %s (a real signature) does not parse: %v", e.Name(), err)
		}
	}
	for name := range fresh {
		if !seen[name] {
			t.Errorf("seed %s is missing from %s (run with CMS_WRITE_FUZZ_SEEDS=1)", name, dir)
		}
	}
}

// FuzzNormalizeBER: the BER normaliser never panics, returns typed errors, and what it
// returns has DER lengths throughout — normalising it again changes nothing.
//
//	go test -run '^$' -fuzz FuzzNormalizeBER -fuzztime 30s ./cms
func FuzzNormalizeBER(f *testing.F) {
	f.Add([]byte{0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00})
	f.Add([]byte{0x24, 0x80, 0x04, 0x01, 0xaa, 0x24, 0x80, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00})
	f.Add([]byte{0x30, 0x81, 0x03, 0x02, 0x81, 0x01, 0x05})
	f.Add([]byte{0xbf, 0x81, 0x00, 0x80, 0x05, 0x00, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		out, used, altered, err := normalizeBER(in)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if used <= 0 || used > len(in) || len(out) > maxBEROut {
			t.Fatalf("used %d of %d, out %d", used, len(in), len(out))
		}
		if len(altered) == 0 && !bytes.Equal(out, in[:used]) {
			t.Fatal("unaltered input changed")
		}
		again, n, altered2, err := normalizeBER(out)
		if err != nil || n != len(out) || len(altered2) != 0 || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent: %v n=%d altered=%v", err, n, altered2)
		}
	})
}
