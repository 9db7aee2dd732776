//go:build !unix

package fs_test

import "testing"

// runAsNobody: permission tests need a Unix user to drop to.
func runAsNobody(t *testing.T, name string) {
	t.Skip("running as an administrator without a Unix user to drop to: permissions do not stop writes")
}
