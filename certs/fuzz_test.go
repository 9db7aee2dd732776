package certs

import (
	"testing"
)

// FuzzParseKeyMaterial feeds arbitrary bytes to the PEM, encrypted-key and certificate
// parsers: they must return errors, never panic.
func FuzzParseKeyMaterial(f *testing.F) {
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBADAbBgkqhkiG9w0BBQ0wDjAMBggqhkiG9w0CCQUA\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parsePrivateKeyPEM(data, "fuzz", "x")
		_, _ = decryptPKCS8(data, "x")
		_, _ = ParseCertificatePEM(data)
	})
}
