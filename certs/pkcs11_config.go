package certs

import (
	"encoding/hex"
	"fmt"
	"log/slog"
)

// PKCS11Config names a private key on a PKCS#11 token (an HSM, a USB token, SoftHSM).
//
// The PIN is a secret: the caller reads it from the environment or from a file named by a
// _FILE variable. PKCS11Config's String, GoString and LogValue methods redact it, so printing
// or logging a config never shows it, and no error returned by this package contains it.
type PKCS11Config struct {
	// Module is the path of the PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so).
	Module string
	// TokenLabel selects the token by its label; it is required.
	TokenLabel string
	// KeyLabel (CKA_LABEL) and KeyID (CKA_ID) select the private key; at least one is
	// required, and when both are set both must match.
	KeyLabel string
	KeyID    []byte
	// PIN is the user PIN of the token.
	PIN string
	// Sessions caps the number of concurrent signing sessions (default 4). Sign calls
	// beyond it wait for a free session.
	Sessions int
}

// String describes the config without the PIN.
func (c PKCS11Config) String() string {
	pin := ""
	if c.PIN != "" {
		pin = "[redacted]"
	}
	return fmt.Sprintf("PKCS11Config{Module:%q TokenLabel:%q KeyLabel:%q KeyID:%x PIN:%s}",
		c.Module, c.TokenLabel, c.KeyLabel, c.KeyID, pin)
}

// GoString is String, so %#v does not print the PIN either.
func (c PKCS11Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer without the PIN.
func (c PKCS11Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("module", c.Module),
		slog.String("token", c.TokenLabel),
		slog.String("key_label", c.KeyLabel),
		slog.String("key_id", hex.EncodeToString(c.KeyID)),
	)
}

// keyName is how errors name the key: label and/or hex id, never the PIN.
func (c PKCS11Config) keyName() string {
	switch {
	case c.KeyLabel != "" && len(c.KeyID) > 0:
		return fmt.Sprintf("label %q id %x", c.KeyLabel, c.KeyID)
	case c.KeyLabel != "":
		return fmt.Sprintf("label %q", c.KeyLabel)
	default:
		return fmt.Sprintf("id %x", c.KeyID)
	}
}
