package intake

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/chungthuc/chungthuc"
)

func TestJPEGEmbeddedByteForByte(t *testing.T) {
	j := withExif(jpegOf(t, quadrants(80, 60), 90), 1, 0, 0)
	pages, rep, err := Pages([]File{{"scan1.jpg", j}}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 1 || len(rep.Dropped) != 0 || pages[0].Source != "scan1.jpg" {
		t.Fatalf("pages %+v report %+v", pages, rep)
	}
	pdf := assemble(t, pages)
	// The image stream's data is the file itself.
	if !bytes.Contains(pdf, append([]byte("stream\n"), append(j, []byte("\nendstream")...)...)) {
		t.Fatal("the JPEG is not embedded byte for byte")
	}
	if !bytes.Contains(pdf, []byte("/DCTDecode")) {
		t.Fatal("no DCTDecode")
	}
	render(t, pdf, 30)
}

// stored returns the image a camera stores for an upright scene shown with EXIF
// orientation o: stored pixel (c, r) is displayed at the position the EXIF specification
// gives for o.
func stored(shown image.Image, o int) *image.RGBA {
	b := shown.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if o >= 5 {
		sw, sh = sh, sw
	}
	m := image.NewRGBA(image.Rect(0, 0, sw, sh))
	for r := 0; r < sh; r++ {
		for c := 0; c < sw; c++ {
			var x, y int
			switch o {
			case 1:
				x, y = c, r
			case 2:
				x, y = sw-1-c, r
			case 3:
				x, y = sw-1-c, sh-1-r
			case 4:
				x, y = c, sh-1-r
			case 5:
				x, y = r, c
			case 6:
				x, y = sh-1-r, c
			case 7:
				x, y = sh-1-r, sw-1-c
			case 8:
				x, y = r, sw-1-c
			}
			m.Set(c, r, shown.At(x, y))
		}
	}
	return m
}

func TestEXIFOrientation(t *testing.T) {
	shown := quadrants(120, 60) // landscape as shown
	for o := 1; o <= 8; o++ {
		j := withExif(jpegOf(t, stored(shown, o), 95), o, 0, 0)
		pages, _, err := Pages([]File{{"phone.jpg", j}}, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		p := pages[0]
		// Shown landscape, no resolution: A4 landscape.
		if math.Abs(p.Width-a4Long) > 0.01 || math.Abs(p.Height-a4Short) > 0.01 {
			t.Errorf("orientation %d: page %.2f×%.2f, want A4 landscape", o, p.Width, p.Height)
		}
		imgs := render(t, assemble(t, pages), 30)
		m := imgs[0]
		b := m.Bounds()
		// The image fills the width; its height is half of it, centred.
		ih := float64(b.Dx()) / 2
		top := (float64(b.Dy()) - ih) / 2
		at := func(fx, fy float64) color.Color {
			return m.At(b.Min.X+int(fx*float64(b.Dx())), b.Min.Y+int(top+fy*ih))
		}
		for _, q := range []struct {
			fx, fy float64
			want   color.RGBA
			name   string
		}{{0.25, 0.25, red, "top left"}, {0.75, 0.25, green, "top right"}, {0.25, 0.75, blue, "bottom left"}, {0.75, 0.75, white, "bottom right"}} {
			if c := at(q.fx, q.fy); !near(c, q.want, 60) {
				t.Errorf("orientation %d: %s is %v, want %v", o, q.name, c, q.want)
			}
		}
	}
}

func TestResolution(t *testing.T) {
	base := jpegOf(t, quadrants(600, 300), 80)
	pngBase := pngOf(t, quadrants(600, 300))
	phys := func(ppm uint32) []byte {
		d := []byte{byte(ppm >> 24), byte(ppm >> 16), byte(ppm >> 8), byte(ppm), byte(ppm >> 24), byte(ppm >> 16), byte(ppm >> 8), byte(ppm), 1}
		return pngChunk("pHYs", d)
	}
	withPHYs := func(ppm uint32) []byte { // after IHDR (8 + 25 bytes)
		return append(append(append([]byte{}, pngBase[:33]...), phys(ppm)...), pngBase[33:]...)
	}
	for _, c := range []struct {
		name string
		data []byte
		w, h float64
	}{
		{"jfif-100dpi", withJFIF(base, 1, 100, 100), 432, 216},
		{"jfif-dpcm", withJFIF(base, 2, 40, 40), 600 / 101.6 * 72, 300 / 101.6 * 72},
		{"exif-100dpi", withExif(base, 1, 100, 2), 432, 216},
		{"exif-rotated", withExif(base, 6, 100, 2), 216, 432},
		{"exif-72dpi-is-unknown", withExif(base, 1, 72, 2), a4Long, a4Short},
		{"jfif-aspect-only", withJFIF(base, 0, 1, 1), a4Long, a4Short},
		{"implausible-20dpi", withJFIF(base, 1, 20, 20), a4Long, a4Short},
		{"png-100dpi", withPHYs(3937), 600 / 99.9998 * 72, 300 / 99.9998 * 72},
		{"png-none", pngBase, a4Long, a4Short},
	} {
		pages, _, err := Pages([]File{{c.name, c.data}}, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if p := pages[0]; math.Abs(p.Width-c.w) > 0.05 || math.Abs(p.Height-c.h) > 0.05 {
			t.Errorf("%s: page %.2f×%.2f, want %.2f×%.2f", c.name, p.Width, p.Height, c.w, c.h)
		}
	}
	// A portrait image without resolution: A4 portrait, image centred horizontally.
	pages, _, err := Pages([]File{{"tall.jpg", jpegOf(t, quadrants(100, 300), 80)}}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if p := pages[0]; p.Width != a4Short || p.Height != a4Long {
		t.Errorf("portrait: %.2f×%.2f", p.Width, p.Height)
	}
}

func TestPNGVariants(t *testing.T) {
	q := quadrants(64, 48)
	gray := image.NewGray(q.Bounds())
	gray16 := image.NewGray16(q.Bounds())
	rgba := image.NewNRGBA(q.Bounds())
	rgba64 := image.NewNRGBA64(q.Bounds())
	pal := image.NewPaletted(q.Bounds(), color.Palette{red, green, blue, white})
	palAlpha := image.NewPaletted(q.Bounds(), color.Palette{red, green, blue, color.NRGBA{255, 255, 255, 0}})
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			c := q.RGBAAt(x, y)
			gray.Set(x, y, c)
			gray16.Set(x, y, c)
			a := uint8(255)
			if x >= 32 && y >= 24 {
				a = 0 // bottom right transparent: white page shows through
			}
			rgba.Set(x, y, color.NRGBA{c.R, c.G, c.B, a})
			rgba64.Set(x, y, color.NRGBA{c.R, c.G, c.B, a})
			pal.Set(x, y, c)
			palAlpha.SetColorIndex(x, y, pal.ColorIndexAt(x, y))
		}
	}
	for _, c := range []struct {
		name        string
		data        []byte
		passThrough bool
		smask       bool
		colors      bool // quadrant colours expected (else gray levels)
	}{
		{"rgb", pngOf(t, q), true, false, true},
		{"gray", pngOf(t, gray), true, false, false},
		{"gray16", pngOf(t, gray16), false, false, false},
		{"rgba", pngOf(t, rgba), false, true, true},
		{"rgba64", pngOf(t, rgba64), false, true, true},
		{"palette", pngOf(t, pal), true, false, true},
		{"palette-alpha", pngOf(t, palAlpha), false, true, true},
		{"interlaced", interlacedRGB(q), false, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, ferr := parsePNG(c.data)
			if ferr != nil {
				t.Fatal(ferr.msg)
			}
			if in.passThrough() != c.passThrough {
				t.Errorf("pass-through %v, want %v", in.passThrough(), c.passThrough)
			}
			pages, _, err := Pages([]File{{c.name + ".png", c.data}}, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			pdf := assemble(t, pages)
			if c.passThrough && !bytes.Contains(pdf, in.idat[0]) {
				t.Error("IDAT data not passed through")
			}
			if got := bytes.Contains(pdf, []byte("/SMask")); got != c.smask {
				t.Errorf("SMask %v, want %v", got, c.smask)
			}
			m := render(t, pdf, 30)[0]
			b := m.Bounds()
			ih := float64(b.Dx()) * 48 / 64
			top := (float64(b.Dy()) - ih) / 2
			at := func(fx, fy float64) color.Color {
				return m.At(b.Min.X+int(fx*float64(b.Dx())), b.Min.Y+int(top+fy*ih))
			}
			want := []color.RGBA{red, green, blue, white}
			if !c.colors {
				for i, w := range want {
					l := uint8((19595*uint32(w.R) + 38470*uint32(w.G) + 7471*uint32(w.B) + 1<<15) >> 16)
					want[i] = color.RGBA{l, l, l, 255}
				}
			}
			for i, p := range [][2]float64{{0.25, 0.25}, {0.75, 0.25}, {0.25, 0.75}, {0.75, 0.75}} {
				if got := at(p[0], p[1]); !near(got, want[i], 40) {
					t.Errorf("quadrant %d is %v, want %v", i, got, want[i])
				}
			}
		})
	}
}

// The decode path and the pass-through path give the same picture.
func TestPNGDecodePathMatchesPassThrough(t *testing.T) {
	data := pngOf(t, quadrants(64, 48))
	s, err := readPNG(File{"a.png", data}, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	s.forceDecode = true
	pages, err := s.pages(DefaultLimits(), &Report{})
	if err != nil {
		t.Fatal(err)
	}
	a := render(t, assemble(t, pages), 30)[0]
	pages2, _, _ := Pages([]File{{"a.png", data}}, Limits{})
	b := render(t, assemble(t, pages2), 30)[0]
	if a.Bounds() != b.Bounds() {
		t.Fatal("sizes differ")
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y += 3 {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x += 3 {
			if !near(a.At(x, y), color.RGBAModel.Convert(b.At(x, y)).(color.RGBA), 2) {
				t.Fatalf("pixel %d,%d differs", x, y)
			}
		}
	}
}

func TestSeveralFilesInOrder(t *testing.T) {
	j := jpegOf(t, quadrants(40, 30), 80)
	p := pngOf(t, quadrants(30, 40))
	pdf := buildPDF(
		"<</Type /Catalog /Pages 2 0 R>>",
		"<</Type /Pages /Kids [3 0 R 4 0 R] /Count 2>>",
		"<</Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 5 0 R>>",
		"<</Type /Page /Parent 2 0 R /MediaBox [0 0 200 300] /Contents 5 0 R>>",
		stream("", "0 0 1 rg 10 10 50 50 re f"),
	)
	pages, _, err := Pages([]File{{"a.jpg", j}, {"b.pdf", pdf}, {"c.png", p}}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pages {
		got = append(got, p.Source)
	}
	want := []string{"a.jpg", "b.pdf page 1", "b.pdf page 2", "c.png"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if len(render(t, assemble(t, pages), 20)) != 4 {
		t.Fatal("not 4 pages")
	}
}

func TestJPEGVariants(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 40, 30))
	for _, c := range []struct {
		name string
		data []byte
		cs   string
	}{
		{"gray", jpegOf(t, gray, 80), "/DeviceGray"},
		{"cmyk", readFile(t, "testdata/video-001.cmyk.jpeg"), "/DeviceCMYK"},
		{"progressive", readFile(t, "testdata/video-001.progressive.jpeg"), "/DeviceRGB"},
		{"restart", readFile(t, "testdata/video-001.restart2.jpeg"), "/DeviceRGB"},
	} {
		pages, _, err := Pages([]File{{c.name + ".jpg", c.data}}, Limits{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		pdf := assemble(t, pages)
		if !bytes.Contains(pdf, []byte(c.cs)) {
			t.Errorf("%s: no %s", c.name, c.cs)
		}
		render(t, pdf, 20)
	}
	// An Adobe CMYK JPEG is stored inverted: the PDF says /Decode, and the rendering
	// matches Go's own decoding of the file.
	pages, _, err := Pages([]File{{"cmyk.jpg", readFile(t, "testdata/video-001.cmyk.jpeg")}}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	pdf := assemble(t, pages)
	if !bytes.Contains(pdf, []byte("/Decode [1 0 1 0 1 0 1 0]")) {
		t.Error("Adobe CMYK without /Decode")
	}
	want, err := png.Decode(bytes.NewReader(readFile(t, "testdata/video-001.cmyk.png")))
	if err != nil {
		t.Fatal(err)
	}
	got := render(t, pdf, 72)[0]
	if d := meanDiff(got, want, pages[0]); d > 40 {
		t.Errorf("CMYK rendering differs from the decoded image by %.1f on average", d)
	}
	// A 12-bit or lossless JPEG is refused as unsupported.
	j := jpegOf(t, gray, 80)
	i := bytes.Index(j, []byte{0xFF, 0xC0})
	j12 := append([]byte{}, j...)
	j12[i+4] = 12
	_, _, err = Pages([]File{{"deep.jpg", j12}}, Limits{})
	wantError(t, err, chungthuc.EUNSUPPORTED, "deep.jpg", "12-bit")
	jl := append([]byte{}, j...)
	jl[i+1] = 0xC3
	_, _, err = Pages([]File{{"lossless.jpg", jl}}, Limits{})
	wantError(t, err, chungthuc.EUNSUPPORTED, "lossless.jpg")
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// meanDiff compares a rendering of an image page (fitted to A4, centred) with the image,
// sampling on a grid: the mean absolute difference per channel, 0–255.
func meanDiff(page, img image.Image, p Page) float64 {
	pb, ib := page.Bounds(), img.Bounds()
	s := float64(pb.Dx()) / p.Width // pixels per point
	iw, ih := float64(ib.Dx()), float64(ib.Dy())
	f := min(p.Width/iw, p.Height/ih) * s // rendered pixels per image pixel
	x0 := (float64(pb.Dx()) - iw*f) / 2
	y0 := (float64(pb.Dy()) - ih*f) / 2
	var sum float64
	n := 0
	for y := 4; y < ib.Dy()-4; y += 7 {
		for x := 4; x < ib.Dx()-4; x += 7 {
			r1, g1, b1, _ := img.At(ib.Min.X+x, ib.Min.Y+y).RGBA()
			r2, g2, b2, _ := page.At(pb.Min.X+int(x0+(float64(x)+0.5)*f), pb.Min.Y+int(y0+(float64(y)+0.5)*f)).RGBA()
			sum += math.Abs(float64(r1>>8)-float64(r2>>8)) + math.Abs(float64(g1>>8)-float64(g2>>8)) + math.Abs(float64(b1>>8)-float64(b2>>8))
			n += 3
		}
	}
	return sum / float64(n)
}

// Every image of the PNG test suite (all colour types and bit depths, interlaced or not,
// with and without transparency) renders like Go's decoding of it over white paper.
func TestPNGSuite(t *testing.T) {
	names, _ := filepath.Glob("testdata/pngsuite/*.png")
	if len(names) == 0 {
		t.Fatal("no test images")
	}
	var files []File
	for _, n := range names {
		files = append(files, File{filepath.Base(n), readFile(t, n)})
	}
	pages, _, err := Pages(files, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	got := render(t, assemble(t, pages), 72)
	for i, f := range files {
		m, err := png.Decode(bytes.NewReader(f.Data))
		if err != nil {
			t.Fatal(err)
		}
		onWhite := image.NewRGBA(m.Bounds())
		draw.Draw(onWhite, onWhite.Bounds(), image.White, image.Point{}, draw.Src)
		draw.Draw(onWhite, onWhite.Bounds(), m, m.Bounds().Min, draw.Over)
		if d := meanDiff(got[i], onWhite, pages[i]); d > 12 {
			t.Errorf("%s: rendering differs by %.1f on average", f.Name, d)
		}
	}
}
