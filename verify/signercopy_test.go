package verify

import (
	"context"
	"crypto/x509"
	"testing"
	"time"

	chungthuc "github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testpki"
	"github.com/chungthuc/chungthuc/internal/testscan"
	"github.com/chungthuc/chungthuc/signer"
)

// TestSignerCopyPaintedOver runs the sneaky-overlay attack on a copy made by signer/
// itself (not a fixture built in this package): a foreign signer under a trusted root
// countersigns it with an opaque widget over the statement page. The officer's and the
// seal's signatures must fail as painted over; the same countersignature with its widget
// off the page leaves all three valid.
func TestSignerCopyPaintedOver(t *testing.T) {
	p := testpki.New()
	officer := p.Leaf("Trần Văn Nghĩa", "Phường Hòa Bình", "ecdsa")
	seal := p.Leaf("Phường Hòa Bình", "Phường Hòa Bình", "rsa")
	s, err := signer.New(signer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	req := chungthuc.CopyRequest{
		Place: "Hòa Bình", UnitName: "Phường Hòa Bình",
		OfficerName: "Trần Văn Nghĩa", OfficerTitle: "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH", DocTitle: "Giấy khai sinh",
		Officer: officer, Seal: seal,
		Allocate: func(ctx context.Context, pages int) (*chungthuc.Allocation, error) {
			return &chungthuc.Allocation{Number: 7, BookCode: "01/2026-SCTĐT/BS",
				CertifiedAt: time.Now().Add(-time.Hour).In(chungthuc.Vietnam),
				VerifyURL:   "https://chungthuc.example.vn/v/abc"}, nil
		},
	}
	for i, sc := range testscan.Scans(1, 100<<10, 100) {
		req.Scans = append(req.Scans, chungthuc.Scan{Name: "trang" + string(rune('1'+i)) + ".jpg", Data: sc})
	}
	res, err := s.MakeCopy(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(p.Root)
	roots.AddCert(getPKI().root.cert)
	opt := Options{Roots: roots}

	if rep := mustVerify(t, res.PDF, opt); !rep.Valid || len(rep.Signatures) != 2 {
		t.Fatalf("the signer's copy itself:\n%s", dump(t, rep))
	}
	// The statement page is the last page: the top half holds the statement text.
	painted := signPDF(t, res.PDF, signOpts{key: bank(), field: "Bank", visible: true, rect: "[0 421 595 842]"})
	writeAttack(t, "overlay_signer_copy_statement", painted)
	rep := mustVerify(t, painted, opt)
	if rep.Valid || len(rep.Signatures) != 3 {
		t.Fatalf("painted-over signer copy reported valid:\n%s", dump(t, rep))
	}
	for _, sg := range rep.Signatures[:2] {
		if sg.Indication != TotalFailed || sg.SubIndication != SubModifiedAfterSigning || overlayChange(sg) == nil {
			t.Fatalf("signature %d (%s) not reported painted over: %s/%s\n%s", sg.Index, sg.Field, sg.Indication, sg.SubIndication, dump(t, rep))
		}
	}
	if sg := rep.Signatures[0]; sg.DocMDP == nil || !sg.DocMDP.Violated {
		t.Errorf("the certification's DocMDP is not marked violated: %+v", sg.DocMDP)
	}
	if sg := rep.Signatures[2]; sg.Indication != TotalPassed {
		t.Errorf("the countersignature itself: %s/%s", sg.Indication, sg.SubIndication)
	}

	clean := signPDF(t, res.PDF, signOpts{key: bank(), field: "Bank", visible: true, rect: "[1000 1000 1200 1070]"})
	if rep := mustVerify(t, clean, opt); !rep.Valid || len(rep.Signatures) != 3 {
		t.Fatalf("a countersignature whose widget is off the page:\n%s", dump(t, rep))
	}
}
