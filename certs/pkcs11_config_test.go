package certs

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestPKCS11ConfigRedactsPIN(t *testing.T) {
	cfg := PKCS11Config{Module: "/m.so", TokenLabel: "t", KeyLabel: "k", KeyID: []byte{1}, PIN: ktPIN}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("open", "cfg", cfg)
	for _, s := range []string{cfg.String(), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), buf.String()} {
		if strings.Contains(s, ktPIN) {
			t.Fatalf("PIN printed: %s", s)
		}
	}
	if !strings.Contains(buf.String(), `"token":"t"`) {
		t.Fatalf("log lacks the token: %s", buf.String())
	}
}
