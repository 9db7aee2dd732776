package cms_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/chungthuc/chungthuc/cms"
)

// The signer's flow: size the placeholder without the key, hash the ByteRange as it
// streams, sign once; the verifier's flow: parse the padded /Contents, verify.
func Example() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "UBND phường Ví Dụ"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	opt := cms.SignOptions{Signer: key, Chain: []*x509.Certificate{cert}, Hash: crypto.SHA256}

	placeholder := cms.MaxSizeWithExtra(opt, 0) // reserve 2*placeholder hex digits in /Contents
	h := sha256.New()
	h.Write([]byte("the PDF bytes outside /Contents"))
	sig, err := cms.SignDetached(h.Sum(nil), opt)
	if err != nil {
		panic(err)
	}
	contents := append(sig, make([]byte, placeholder-len(sig))...) // zero padding

	sd, err := cms.Parse(contents)
	if err != nil {
		panic(err)
	}
	si, _ := sd.Signer()
	signer, err := si.Verify(sd, h.Sum(nil))
	fmt.Println(signer.Subject.CommonName, err, sd.TrailingZeros >= 0, si.SigningTime == nil)
	// Output: UBND phường Ví Dụ <nil> true true
}
