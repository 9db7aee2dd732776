package signer

import (
	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer/intake"
)

// Scan quality gate (issue #11): a copy the reader cannot read is not a copy. The effective
// resolution of an image scan is measured on the page it is printed on (A4 unless the scan
// declares its size, intake.Page.DPI).
const (
	// RefuseBelowDPI: scans below it are refused; the officer cannot override this.
	RefuseBelowDPI = 150
	// WarnBelowDPI: scans below it (and at least RefuseBelowDPI) are refused with a warning
	// unless the officer confirms (CopyRequest.ConfirmLowResolution).
	WarnBelowDPI = 200
)

// checkResolution applies the gate to every image page. Both outcomes are EINVALID errors that
// name the page and the numbers; they happen before a number is allocated.
func checkResolution(pages []intake.Page, confirmed bool) error {
	for _, p := range pages {
		if p.DPI == 0 { // a page of a PDF scan
			continue
		}
		if p.DPI < RefuseBelowDPI {
			return chungthuc.Errorf(chungthuc.EINVALID,
				"%s: bản quét có độ phân giải %.0f dpi trên trang %.0f×%.0f mm, thấp hơn mức tối thiểu %d dpi; hãy quét lại bản chính (the scan's effective resolution is %.0f dpi, below the minimum of %d dpi: scan the original again)",
				p.Source, p.DPI, p.Width/72*25.4, p.Height/72*25.4, RefuseBelowDPI, p.DPI, RefuseBelowDPI)
		}
		if p.DPI < WarnBelowDPI && !confirmed {
			return chungthuc.Errorf(chungthuc.EINVALID,
				"%s: bản quét có độ phân giải %.0f dpi trên trang %.0f×%.0f mm, thấp hơn mức khuyến nghị %d dpi; kiểm tra bản quét đọc được rồi xác nhận, hoặc quét lại (the scan's effective resolution is %.0f dpi, below the recommended %d dpi: confirm that it is legible, or scan again)",
				p.Source, p.DPI, p.Width/72*25.4, p.Height/72*25.4, WarnBelowDPI, p.DPI, WarnBelowDPI)
		}
	}
	return nil
}
