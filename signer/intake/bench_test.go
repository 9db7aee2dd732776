package intake

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"testing"

	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

// scanLike is a w×h image with text-like noise on paper, so that JPEG and PNG sizes are
// those of real scans rather than of flat colour.
func scanLike(w, h int, seed uint64) *image.RGBA {
	r := rand.New(rand.NewPCG(seed, 1))
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := uint8(235 + r.IntN(20))
			if (y/12)%3 == 0 && r.IntN(3) == 0 {
				v = uint8(r.IntN(80))
			}
			m.SetRGBA(x, y, color.RGBA{v, v, uint8(min(255, int(v)+5)), 255})
		}
	}
	return m
}

// jpegsOfSize makes n JPEGs of about total/n bytes each.
func jpegsOfSize(b *testing.B, n, total int) []File {
	per := total / n
	files := make([]File, n)
	for i := range files {
		side := 400
		var j []byte
		for {
			j = jpegOf(b, scanLike(side, side*3/2, uint64(i)), 85)
			if len(j) >= per*9/10 || side > 4000 {
				break
			}
			side = side * 11 / 10
		}
		files[i] = File{"scan.jpg", withJFIF(j, 1, 200, 200)}
	}
	return files
}

func benchPages(b *testing.B, files []File) {
	size := 0
	for _, f := range files {
		size += len(f.Data)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		pages, _, err := Pages(files, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		w := pdfdoc.New("1.7", size+size/8)
		for _, p := range pages {
			if _, _, err := p.Emit(w); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkPages: intake plus emitting every page into a Writer.
func BenchmarkPages(b *testing.B) {
	b.Run("3jpeg-1MB", func(b *testing.B) { benchPages(b, jpegsOfSize(b, 3, 1<<20)) })
	b.Run("30jpeg-10MB", func(b *testing.B) { benchPages(b, jpegsOfSize(b, 30, 10<<20)) })

	// A grey 200-dpi A4 scan saved as PNG: passed through vs. decoded and re-encoded.
	gray := image.NewGray(image.Rect(0, 0, 1654, 2339))
	src := scanLike(1654, 2339, 7)
	for i := range gray.Pix {
		gray.Pix[i] = src.Pix[4*i]
	}
	var buf bytes.Buffer
	png.Encode(&buf, gray)
	grayPNG := buf.Bytes()
	b.Run("png-gray-A4-passthrough", func(b *testing.B) { benchPages(b, []File{{"scan.png", grayPNG}}) })
	b.Run("png-gray-A4-decoded", func(b *testing.B) {
		b.SetBytes(int64(len(grayPNG)))
		b.ReportAllocs()
		for b.Loop() {
			s, err := readPNG(File{"scan.png", grayPNG}, DefaultLimits())
			if err != nil {
				b.Fatal(err)
			}
			s.forceDecode = true
			if _, err := s.pages(DefaultLimits(), &Report{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	rgba := image.NewNRGBA(image.Rect(0, 0, 1000, 1000))
	copy(rgba.Pix, scanLike(1000, 1000, 3).Pix)
	buf.Reset()
	png.Encode(&buf, rgba)
	b.Run("png-rgba-1MP", func(b *testing.B) { benchPages(b, []File{{"photo.png", buf.Bytes()}}) })

	// A 3-page PDF scan (one JPEG per page), as scanners write them.
	var pdf []byte
	{
		w := pdfdoc.New("1.7", 1<<20)
		tree := w.Alloc()
		var kids pdfdoc.Array
		for _, f := range jpegsOfSize(b, 3, 1<<20) {
			in, _ := parseJPEG(f.Data)
			img := w.Add(&pdfdoc.Stream{Dict: pdfdoc.Dict{"Type": pdfdoc.Name("XObject"), "Subtype": pdfdoc.Name("Image"),
				"Width": pdfdoc.Int(in.width), "Height": pdfdoc.Int(in.height), "ColorSpace": pdfdoc.Name("DeviceRGB"),
				"BitsPerComponent": pdfdoc.Int(8), "Filter": pdfdoc.Name("DCTDecode")}, Data: f.Data})
			kids = append(kids, w.Add(pdfdoc.Dict{"Type": pdfdoc.Name("Page"), "Parent": tree,
				"MediaBox":  pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Int(595), pdfdoc.Int(842)},
				"Resources": pdfdoc.Dict{"XObject": pdfdoc.Dict{"Im0": img}},
				"Contents":  w.Add(pdfdoc.FlateStream(nil, []byte("q 595 0 0 842 0 0 cm /Im0 Do Q")))}))
		}
		w.Put(tree, pdfdoc.Dict{"Type": pdfdoc.Name("Pages"), "Kids": kids, "Count": pdfdoc.Int(len(kids))})
		pdf, _, _ = w.Finish(w.Add(pdfdoc.Dict{"Type": pdfdoc.Name("Catalog"), "Pages": tree}), pdfdoc.Ref{})
	}
	b.Run("pdf-3pages-1MB", func(b *testing.B) { benchPages(b, []File{{"scan.pdf", pdf}}) })
}
