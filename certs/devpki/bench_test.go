package devpki

import (
	"context"
	"testing"
)

// BenchmarkIssueOfficer measures issuing a new officer key and certificate (key
// generation, signing by the root, two atomic file writes with fsync).
func BenchmarkIssueOfficer(b *testing.B) {
	for _, alg := range []string{AlgECDSAP256, AlgRSA3072} {
		b.Run(alg, func(b *testing.B) {
			p := openTestPKI(b, Options{Algorithm: alg})
			var id int64
			for b.Loop() {
				id++
				if _, _, err := p.IssueOfficer(testOfficer(id, "Trần Văn Nghĩa", "CHỦ TỊCH"), unitPL); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOfficerKey measures the KeyStore lookup the signing path does per copy, once the
// key is cached.
func BenchmarkOfficerKey(b *testing.B) {
	ctx := context.Background()
	p := openTestPKI(b, Options{})
	o := testOfficer(1, "Trần Văn Nghĩa", "")
	_, certPEM, err := p.IssueOfficer(o, unitPL)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			if _, err := p.OfficerKey(ctx, o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached+register-cert", func(b *testing.B) {
		o := *o
		o.CertPEM = certPEM
		for b.Loop() {
			if _, err := p.OfficerKey(ctx, &o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			p2, err := Open(p.Dir, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p2.OfficerKey(ctx, o); err != nil {
				b.Fatal(err)
			}
		}
	})
}
