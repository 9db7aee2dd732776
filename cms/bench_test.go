package cms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"sync"
	"testing"
	"time"
)

// floors caches, per benchmark name, the time of the bare key operation measured in
// this run: the physical floor the CMS work is compared with ("x-floor" metric).
var floors sync.Map

func floor(name string, op func()) time.Duration {
	if v, ok := floors.Load(name); ok {
		return v.(time.Duration)
	}
	// Timed by hand: testing.Benchmark inside a benchmark deadlocks on the benchmark lock.
	op() // warm up
	n, start := 0, time.Now()
	for time.Since(start) < 300*time.Millisecond {
		op()
		n++
	}
	d := time.Since(start) / time.Duration(n)
	floors.Store(name, d)
	return d
}

func reportFloor(b *testing.B, f time.Duration) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(f.Nanoseconds()), "x-floor")
}

// BenchmarkSignDetached measures a whole B-B signature (signed attributes, one Sign,
// the check of the signature, DER assembly) against a bare key.Sign of a SHA-256 digest.
func BenchmarkSignDetached(b *testing.B) {
	for _, kind := range []string{"p256", "rsa2048"} {
		p := getPKI(b, kind)
		d := digestOf(crypto.SHA256, []byte("content"))
		bare := func() {
			if _, err := p.key.Sign(rand.Reader, d, crypto.SHA256); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(kind+"/bare-sign", func(b *testing.B) {
			for b.Loop() {
				bare()
			}
		})
		b.Run(kind+"/cms", func(b *testing.B) {
			f := floor("sign-"+kind, bare)
			opt := p.opts(0)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := SignDetached(d, opt); err != nil {
					b.Fatal(err)
				}
			}
			reportFloor(b, f)
		})
	}
}

// BenchmarkParseVerify measures Parse plus Verify of our signature against a bare
// public-key verification.
func BenchmarkParseVerify(b *testing.B) {
	for _, kind := range []string{"p256", "rsa2048"} {
		p := getPKI(b, kind)
		d := digestOf(crypto.SHA256, []byte("content"))
		der, err := SignDetached(d, p.opts(0))
		if err != nil {
			b.Fatal(err)
		}
		sig, _ := p.key.Sign(rand.Reader, d, crypto.SHA256)
		bare := func() {
			var ok bool
			switch pub := p.leaf.PublicKey.(type) {
			case *rsa.PublicKey:
				ok = rsa.VerifyPKCS1v15(pub, crypto.SHA256, d, sig) == nil
			case *ecdsa.PublicKey:
				ok = ecdsa.VerifyASN1(pub, d, sig)
			}
			if !ok {
				b.Fatal("bare verify failed")
			}
		}
		b.Run(kind+"/bare-verify", func(b *testing.B) {
			for b.Loop() {
				bare()
			}
		})
		b.Run(kind+"/cms", func(b *testing.B) {
			f := floor("verify-"+kind, bare)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				sd, err := Parse(der)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := sd.Signers[0].Verify(sd, d); err != nil {
					b.Fatal(err)
				}
			}
			reportFloor(b, f)
		})
	}
}

// BenchmarkMaxSizeWithExtra shows that sizing the placeholder costs no key operation.
func BenchmarkMaxSizeWithExtra(b *testing.B) {
	opt := getPKI(b, "rsa2048").opts(0)
	for b.Loop() {
		if MaxSizeWithExtra(opt, 0) == 0 {
			b.Fatal("MaxSize 0")
		}
	}
}
