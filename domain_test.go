package chungthuc

import "testing"

func TestFee(t *testing.T) {
	for _, tc := range []struct {
		pages int
		want  int64
	}{{0, 0}, {1, 2000}, {2, 4000}, {3, 5000}, {10, 12000}, {197, 199000}, {198, 200000}, {500, 200000}} {
		if got := Fee(tc.pages); got != tc.want {
			t.Errorf("Fee(%d) = %d, want %d", tc.pages, got, tc.want)
		}
	}
}

func TestBookCode(t *testing.T) {
	if got := BookCode(1, 2026); got != "01/2026-SCTĐT/BS" {
		t.Fatalf("BookCode = %q", got)
	}
}
