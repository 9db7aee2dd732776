//go:build !cgo

package certs

import (
	"testing"

	"github.com/chungthuc/chungthuc"
)

func TestPKCS11WithoutCgo(t *testing.T) {
	_, err := OpenPKCS11(PKCS11Config{Module: "x", TokenLabel: "t", KeyLabel: "k", PIN: ktPIN}, nil)
	if chungthuc.ErrorCode(err) != chungthuc.EUNSUPPORTED {
		t.Fatalf("got %v", err)
	}
}
