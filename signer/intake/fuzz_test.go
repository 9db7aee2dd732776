package intake

import (
	"errors"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

// FuzzPages feeds arbitrary bytes to Pages: the result is
// either pages that can be written, or a *chungthuc.Error with a user-facing code — never
// a panic, never an internal error. Run: go test -fuzz FuzzPages -fuzztime 60s ./signer/intake
func FuzzPages(f *testing.F) {
	f.Add(jpegOf(f, quadrants(16, 8), 80))
	f.Add(withExif(jpegOf(f, quadrants(8, 16), 80), 6, 300, 2))
	f.Add(withJFIF(jpegOf(f, image.NewGray(image.Rect(0, 0, 8, 8)), 80), 1, 200, 200))
	f.Add(pngOf(f, quadrants(8, 8)))
	f.Add(pngOf(f, image.NewGray16(image.Rect(0, 0, 8, 8))))
	f.Add(pngOf(f, image.NewNRGBA(image.Rect(0, 0, 8, 8))))
	f.Add(interlacedRGB(quadrants(9, 7)))
	f.Add(hostilePDF())
	f.Add(rotatedPDF())
	for _, pat := range []string{"testdata/*.jpeg", "testdata/pngsuite/basn*.png"} {
		names, _ := filepath.Glob(pat)
		for _, n := range names {
			if b, err := os.ReadFile(n); err == nil && len(b) < 8<<10 {
				f.Add(b)
			}
		}
	}
	lim := Limits{MaxTotalBytes: 1 << 20, MaxPages: 20, MaxPixels: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		pages, rep, err := Pages([]File{{"f", data}}, lim)
		if err != nil {
			var e *chungthuc.Error
			if !errors.As(err, &e) {
				t.Fatalf("not a *chungthuc.Error: %v", err)
			}
			switch e.Code {
			case chungthuc.EINVALID, chungthuc.ETOOLARGE, chungthuc.EUNSUPPORTED:
			default:
				t.Fatalf("code %s: %v", e.Code, err)
			}
			return
		}
		if rep == nil || len(pages) == 0 || len(pages) > lim.MaxPages {
			t.Fatalf("%d pages, report %v", len(pages), rep)
		}
		w := pdfdoc.New("1.7", 1<<16)
		var kids pdfdoc.Array
		tree := w.Alloc()
		for _, p := range pages {
			if !(p.Width > 0 && p.Height > 0 && p.Width < 1e6 && p.Height < 1e6) {
				t.Fatalf("%s: page %v×%v", p.Source, p.Width, p.Height)
			}
			res, content, err := p.Emit(w)
			if err != nil {
				t.Fatal(err)
			}
			kids = append(kids, w.Add(pdfdoc.Dict{"Type": pdfdoc.Name("Page"), "Parent": tree, "Resources": res,
				"Contents": w.Add(&pdfdoc.Stream{Data: content})}))
		}
		w.Put(tree, pdfdoc.Dict{"Type": pdfdoc.Name("Pages"), "Kids": kids, "Count": pdfdoc.Int(len(kids))})
		if _, _, err := w.Finish(w.Add(pdfdoc.Dict{"Type": pdfdoc.Name("Catalog"), "Pages": tree}), pdfdoc.Ref{}); err != nil {
			t.Fatal(err)
		}
	})
}
