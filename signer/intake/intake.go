// Package intake turns the scans a citizen brings — JPEG and PNG images and PDF files — into
// the pages of one PDF, in the order given, ready for the certification stamp.
//
// JPEGs are embedded byte for byte (DCTDecode, never re-encoded); PNGs are passed through
// (their zlib data with a PNG predictor) when PDF can express them, else decoded and stored
// losslessly; PDF pages are kept as they are, each wrapped in a Form XObject. A page's size
// comes from the image's resolution when it is known and plausible, else the image is fitted
// to an A4 sheet of the same orientation. EXIF orientation is applied by the placement
// matrix, PDF /Rotate by the matrix that draws the page, so every emitted page is upright.
//
// Every input is untrusted. Limits (Limits) are checked before anything is decoded: the total
// size and page count first, then the pixel count of each image from its header. A PDF scan
// keeps only what a scan is — page content, images, fonts, colour spaces, patterns, shadings
// and graphics states — and loses JavaScript and actions, form fields (AcroForm and XFA),
// annotations and links, embedded files, optional content (hidden layers) and metadata, each
// named in the Report, so that nothing in a signed copy can change how it looks after signing.
//
// PDF scans are read with pdfcpu, which rebuilds damaged cross-reference tables and decodes
// every content filter, so that a scan a viewer can show is accepted; their content streams
// are split with the project's PDF content lexer (internal/pdf), the one the rest of the
// code uses. The project's own reader does not replace pdfcpu here because it refuses, by
// design, to repair files (the verifier must judge exactly what the cross-reference says);
// see the package documentation of internal/pdf for the measured difference.
//
// Type detection is by content, never by file name. Failures are *chungthuc.Error values
// that name the file: ETOOLARGE for a limit, EUNSUPPORTED for a type or feature not
// accepted, EINVALID for a damaged file. Intake does not panic on any input (see FuzzPages).
package intake

import (
	"bytes"
	"fmt"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

// Default limits. MB in messages and here means 2^20 bytes (MiB); MP means 10^6 pixels.
const (
	DefaultMaxTotalBytes = 50 << 20   // 50 MiB for all files of one request together
	DefaultMaxPages      = 100        // pages of the resulting PDF
	DefaultMaxPixels     = 50_000_000 // pixels of any one image (JPEG, PNG, or an image in a PDF)
	DefaultMaxDecode     = 128 << 20  // memory decoding any one image may take
)

// Limits bound what one call of Pages accepts. A zero field takes its default.
type Limits struct {
	MaxTotalBytes int64 // sum of the sizes of all files (default 50 MiB)
	MaxPages      int   // pages of the result (default 100)
	MaxPixels     int64 // width × height of any one image (default 50 MP)
	// MaxDecode bounds the memory decoding one image takes — pixels × the bytes per pixel
	// of the decoded form (16-bit samples and alpha included) plus the converted samples —
	// checked from the header before anything is allocated (default 128 MiB). Images are
	// decoded one at a time.
	MaxDecode int64
}

// DefaultLimits returns the default limits: 50 MiB in total, 100 pages, 50 MP and 128 MiB
// of decoding per image.
func DefaultLimits() Limits {
	return Limits{MaxTotalBytes: DefaultMaxTotalBytes, MaxPages: DefaultMaxPages, MaxPixels: DefaultMaxPixels, MaxDecode: DefaultMaxDecode}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = d.MaxTotalBytes
	}
	if l.MaxPages <= 0 {
		l.MaxPages = d.MaxPages
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = d.MaxPixels
	}
	if l.MaxDecode <= 0 {
		l.MaxDecode = d.MaxDecode
	}
	return l
}

// File is one uploaded scan. Name is used in messages only (the type is detected from Data).
type File struct {
	Name string
	Data []byte
}

// Page is one page of the result.
type Page struct {
	Width, Height float64 // page size in points, upright (after EXIF orientation / PDF /Rotate are applied)
	Source        string  // e.g. "scan2.jpg" or "contract.pdf page 3" (for messages)
	// DPI is the effective resolution of an image page as placed on its page (A4 when the
	// image declares no plausible resolution, else the size it declares): its pixels per
	// inch along the axis with fewer. 0 for the pages of a PDF scan (vector content has none).
	DPI float64
	// ImageBox is where the image of an image page lies on it (x0, y0, x1, y1 in points);
	// zero for the pages of a PDF scan.
	ImageBox [4]float64
	// Emit writes the objects the page needs into w and returns the page's /Resources
	// dictionary and its content stream (uncompressed). Resource names start with "S"
	// (/S0); the content is balanced (q…Q) and draws the page in [0 0 Width Height].
	// Emit may be called once per Writer; it does not retain w. Pages of one PDF source
	// emitted into the same Writer share their common objects (fonts, images). Emit is
	// safe for concurrent use with different Writers. All validation happens in Pages:
	// Emit does not fail today (the error is for sources that may need it).
	Emit func(w *pdfdoc.Writer) (resources pdfdoc.Dict, content []byte, err error)
}

// Report lists what intake removed from the inputs, one human-readable line per thing,
// naming the file (and page), e.g. "hopdong.pdf: JavaScript (OpenAction) removed".
type Report struct{ Dropped []string }

func (r *Report) add(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	for _, d := range r.Dropped {
		if d == s {
			return
		}
	}
	r.Dropped = append(r.Dropped, s)
}

type kind int

const (
	kindJPEG kind = iota + 1
	kindPNG
	kindPDF
)

// source is a file after its header has been checked (pass 1), before decoding (pass 2).
type source interface {
	pageCount() int
	pages(lim Limits, rep *Report) ([]Page, error)
}

// Pages checks and converts files, in order, into pages. Limits are checked before any
// decoding: first the total size, then each file's type and header (pixel count of images,
// page tree of PDFs) with the running page count; only then are PNGs decoded and PDF pages
// converted. The Report lists everything removed from PDF scans.
//
// Errors (*chungthuc.Error, message naming the file): EINVALID for no files, an empty,
// damaged or truncated file; ETOOLARGE when the total size, the page count or an image's
// pixel count exceeds lim; EUNSUPPORTED for a type other than JPEG, PNG and PDF (detected
// from the content), a JPEG or PNG variant PDF cannot carry, or an encrypted PDF.
func Pages(files []File, lim Limits) ([]Page, *Report, error) {
	lim = lim.withDefaults()
	if len(files) == 0 {
		return nil, nil, chungthuc.Errorf(chungthuc.EINVALID, "no files were given")
	}
	var total int64
	for _, f := range files {
		total += int64(len(f.Data))
	}
	if total > lim.MaxTotalBytes && len(files) == 1 {
		return nil, nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "%q is %s, more than the limit of %s",
			files[0].Name, mb(total), mb(lim.MaxTotalBytes))
	}
	if total > lim.MaxTotalBytes {
		return nil, nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "the %d files total %s, more than the limit of %s",
			len(files), mb(total), mb(lim.MaxTotalBytes))
	}
	// Each image is one page: a request with too many images fails before any parsing.
	kinds := make([]kind, len(files))
	images := 0
	for i, f := range files {
		k, err := sniff(f)
		if err != nil {
			return nil, nil, err
		}
		kinds[i] = k
		if k != kindPDF {
			images++
		}
	}
	if images > lim.MaxPages {
		return nil, nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "%d images make more pages than the limit of %d", images, lim.MaxPages)
	}
	// Pass 1: headers only. PDFs last, so that cheap checks fail first.
	srcs := make([]source, len(files))
	count := images
	for _, pdfs := range []bool{false, true} {
		for i, f := range files {
			if (kinds[i] == kindPDF) != pdfs {
				continue
			}
			var s source
			var err error
			switch kinds[i] {
			case kindJPEG:
				s, err = readJPEG(f, lim)
			case kindPNG:
				s, err = readPNG(f, lim)
			case kindPDF:
				s, err = readPDF(f, lim, lim.MaxPages-count)
				if err == nil {
					count += s.pageCount()
				}
			}
			if err != nil {
				return nil, nil, err
			}
			if count > lim.MaxPages {
				return nil, nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "%q: the files make more than %d pages, the limit", f.Name, lim.MaxPages)
			}
			srcs[i] = s
		}
	}
	// Pass 2: decode and convert.
	rep := &Report{}
	out := make([]Page, 0, count)
	for _, s := range srcs {
		ps, err := s.pages(lim, rep)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, ps...)
	}
	return out, rep, nil
}

// sniff detects the type of f from its first bytes.
func sniff(f File) (kind, error) {
	b := f.Data
	has := func(off int, magic string) bool {
		return len(b) >= off+len(magic) && string(b[off:off+len(magic)]) == magic
	}
	switch {
	case len(b) == 0:
		return 0, chungthuc.Errorf(chungthuc.EINVALID, "%q is empty", f.Name)
	case has(0, "\xFF\xD8\xFF"):
		return kindJPEG, nil
	case has(0, "\x89PNG\r\n\x1A\n"):
		return kindPNG, nil
	case bytes.Contains(b[:min(len(b), 1024)], []byte("%PDF-")):
		return kindPDF, nil
	}
	what := "files of this type are"
	switch {
	case has(0, "GIF87a"), has(0, "GIF89a"):
		what = "GIF images are"
	case has(0, "II*\x00"), has(0, "MM\x00*"):
		what = "TIFF images are"
	case has(4, "ftypheic"), has(4, "ftypheix"), has(4, "ftypheim"), has(4, "ftypheis"), has(4, "ftyphevc"), has(4, "ftypmif1"), has(4, "ftypmsf1"):
		what = "HEIC/HEIF images are"
	case has(4, "ftypavif"), has(4, "ftypavis"):
		what = "AVIF images are"
	case has(0, "RIFF") && has(8, "WEBP"):
		what = "WebP images are"
	case has(0, "BM"):
		what = "BMP images are"
	case has(0, "\x00\x00\x00\x0CjP  "), has(0, "\xFF\x4F\xFF\x51"):
		what = "JPEG 2000 images are"
	case has(0, "\xFF\x0A"), has(0, "\x00\x00\x00\x0CJXL "):
		what = "JPEG XL images are"
	case has(0, "PK\x03\x04"):
		what = "ZIP archives and office documents are"
	case has(0, "%!PS"):
		what = "PostScript files are"
	}
	return 0, chungthuc.Errorf(chungthuc.EUNSUPPORTED, "%q: %s not accepted; send JPEG, PNG or PDF scans", f.Name, what)
}

func mb(n int64) string {
	const m = 1 << 20
	if n < m/10 {
		return fmt.Sprintf("%d bytes", n)
	}
	if n%m == 0 {
		return fmt.Sprintf("%d MB", n/m)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/m)
}

func mp(px int64) string {
	v := float64(px) / 1e6
	if px < 100_000 {
		return fmt.Sprintf("%d pixels", px)
	}
	if v >= 10 {
		return fmt.Sprintf("%.0f MP", v)
	}
	return fmt.Sprintf("%.1f MP", v)
}

func tooManyPixels(name string, w, h int64, lim Limits) error {
	if w*h <= lim.MaxPixels {
		return nil
	}
	return chungthuc.Errorf(chungthuc.ETOOLARGE, "%q: %d×%d pixels (%s) exceeds the limit of %s per image",
		name, w, h, mp(w*h), mp(lim.MaxPixels))
}
