package main

import (
	"strings"
	"testing"
)

// TestTrustedProxiesConfig: CIDRs and bare addresses are read; a bad entry stops start-up
// and is named.
func TestTrustedProxiesConfig(t *testing.T) {
	env := func(v string) func(string) string {
		m := map[string]string{"CHUNGTHUC_DATA": t.TempDir(), "CHUNGTHUC_TRUSTED_PROXIES": v}
		return func(k string) string { return m[k] }
	}
	c, err := LoadConfig(env("10.0.0.0/8, 2001:db8::/32,192.0.2.7"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 3 || c.TrustedProxies[2].String() != "192.0.2.7/32" {
		t.Fatalf("parsed %v", c.TrustedProxies)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.0/8,,nope"} {
		if _, err := LoadConfig(env(bad)); err == nil || !strings.Contains(err.Error(), "CHUNGTHUC_TRUSTED_PROXIES") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
