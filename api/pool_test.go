package api

import (
	"crypto/x509"

	"github.com/chungthuc/chungthuc/internal/testpki"
)

func x509Pool(p *testpki.PKI) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.Root)
	return pool
}
