package intake

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

// assemble writes pages into a new PDF with a minimal catalog and page tree, as the stamp
// will.
func assemble(t testing.TB, pages []Page) []byte {
	t.Helper()
	w := pdfdoc.New("1.7", 1<<20)
	tree := w.Alloc()
	var kids pdfdoc.Array
	for _, p := range pages {
		res, content, err := p.Emit(w)
		if err != nil {
			t.Fatalf("%s: Emit: %v", p.Source, err)
		}
		for k := range res {
			for n := range res[k].(pdfdoc.Dict) {
				if !strings.HasPrefix(string(n), "S") {
					t.Fatalf("%s: resource name %s does not start with S", p.Source, n)
				}
			}
		}
		if bytes.Count(content, []byte("q")) != bytes.Count(content, []byte("Q")) {
			t.Fatalf("%s: unbalanced content %q", p.Source, content)
		}
		kids = append(kids, w.Add(pdfdoc.Dict{
			"Type": pdfdoc.Name("Page"), "Parent": tree,
			"MediaBox":  pdfdoc.Array{pdfdoc.Int(0), pdfdoc.Int(0), pdfdoc.Real(p.Width), pdfdoc.Real(p.Height)},
			"Resources": res, "Contents": w.Add(pdfdoc.FlateStream(nil, content)),
		}))
	}
	w.Put(tree, pdfdoc.Dict{"Type": pdfdoc.Name("Pages"), "Kids": kids, "Count": pdfdoc.Int(len(kids))})
	root := w.Add(pdfdoc.Dict{"Type": pdfdoc.Name("Catalog"), "Pages": tree})
	b, _, err := w.Finish(root, pdfdoc.Ref{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// render rasterises every page of pdf with pdftoppm at dpi and returns the images. It
// fails the test if pdftoppm reports any error or warning.
func render(t testing.TB, pdf []byte, dpi int, args ...string) []image.Image {
	t.Helper()
	tool, err := exec.LookPath("pdftoppm")
	if err != nil {
		t.Skip("pdftoppm not installed (apt-get install poppler-utils)")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	args = append(args, "-r", fmt.Sprint(dpi), "-png", in, filepath.Join(dir, "p"))
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "p-*.png"))
	sort.Strings(names)
	var imgs []image.Image
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			t.Fatal(err)
		}
		m, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if dir := os.Getenv("INTAKE_KEEP_RENDER"); dir != "" {
			os.MkdirAll(dir, 0o755)
			b, _ := os.ReadFile(n)
			os.WriteFile(filepath.Join(dir, t.Name()[strings.LastIndexByte(t.Name(), '/')+1:]+"-"+filepath.Base(n)), b, 0o644)
		}
		imgs = append(imgs, m)
	}
	return imgs
}

// near reports whether c is within tol of want in every channel.
func near(c color.Color, want color.RGBA, tol int) bool {
	r, g, b, _ := c.RGBA()
	d := func(x uint32, y uint8) bool { v := int(x>>8) - int(y); return v <= tol && v >= -tol }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

func jpegOf(t testing.TB, m image.Image, q int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func pngOf(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withSegment inserts a marker segment right after SOI.
func withSegment(j []byte, marker byte, payload []byte) []byte {
	out := append([]byte{}, j[:2]...)
	out = append(out, 0xFF, marker, byte((len(payload)+2)>>8), byte(len(payload)+2))
	out = append(out, payload...)
	return append(out, j[2:]...)
}

// exifBlock builds a little- or big-endian TIFF block with Orientation and, if dpi > 0,
// X/YResolution in the given unit (2 inch, 3 cm).
func exifBlock(bigEndian bool, orientation int, dpi uint32, unit uint16) []byte {
	var bo binary.AppendByteOrder = binary.LittleEndian
	hdr := []byte("II*\x00")
	if bigEndian {
		bo, hdr = binary.BigEndian, []byte("MM\x00*")
	}
	type entry struct {
		tag, typ uint16
		val      uint32
	}
	entries := []entry{{0x0112, 3, uint32(orientation)}}
	n := 1
	if dpi > 0 {
		n = 4
	}
	dataOff := uint32(8 + 2 + 12*n + 4)
	if dpi > 0 {
		entries = append(entries, entry{0x011A, 5, dataOff}, entry{0x011B, 5, dataOff + 8}, entry{0x0128, 3, uint32(unit)})
	}
	b := append([]byte{}, hdr...)
	b = bo.AppendUint32(b, 8)
	b = bo.AppendUint16(b, uint16(len(entries)))
	for _, e := range entries {
		b = bo.AppendUint16(b, e.tag)
		b = bo.AppendUint16(b, e.typ)
		b = bo.AppendUint32(b, 1)
		if e.typ == 3 {
			b = bo.AppendUint16(b, uint16(e.val))
			b = bo.AppendUint16(b, 0)
		} else {
			b = bo.AppendUint32(b, e.val)
		}
	}
	b = bo.AppendUint32(b, 0)
	if dpi > 0 {
		b = bo.AppendUint32(b, dpi)
		b = bo.AppendUint32(b, 1)
		b = bo.AppendUint32(b, dpi)
		b = bo.AppendUint32(b, 1)
	}
	return b
}

func withExif(j []byte, orientation int, dpi uint32, unit uint16) []byte {
	return withSegment(j, 0xE1, append([]byte("Exif\x00\x00"), exifBlock(orientation%2 == 0, orientation, dpi, unit)...))
}

func withJFIF(j []byte, units byte, x, y uint16) []byte {
	p := []byte("JFIF\x00\x01\x02")
	p = append(p, units, byte(x>>8), byte(x), byte(y>>8), byte(y), 0, 0)
	return withSegment(j, 0xE0, p)
}

// pngChunk returns a PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// rawPNG builds a PNG by hand from IHDR fields and the raw (filtered) scanlines.
func rawPNG(w, h uint32, depth, colorType, interlace byte, raw []byte, extra ...[]byte) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, colorType, 0, 0, interlace)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	b := []byte("\x89PNG\r\n\x1A\n")
	b = append(b, pngChunk("IHDR", ihdr)...)
	for _, e := range extra {
		b = append(b, e...)
	}
	b = append(b, pngChunk("IDAT", z.Bytes())...)
	return append(b, pngChunk("IEND", nil)...)
}

// interlacedRGB encodes m as an Adam7-interlaced 8-bit RGB PNG (filter 0 on every row).
func interlacedRGB(m image.Image) []byte {
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	passes := [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}
	var raw []byte
	for _, p := range passes {
		for y := p[1]; y < h; y += p[3] {
			if p[0] >= w {
				break
			}
			raw = append(raw, 0)
			for x := p[0]; x < w; x += p[2] {
				r, g, bl, _ := m.At(b.Min.X+x, b.Min.Y+y).RGBA()
				raw = append(raw, byte(r>>8), byte(g>>8), byte(bl>>8))
			}
		}
	}
	return rawPNG(uint32(w), uint32(h), 8, 2, 1, raw)
}

// buildPDF writes a PDF from numbered object bodies (object i+1 = objs[i]), catalog 1.
func buildPDF(objs ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f\r\n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", o)
	}
	fmt.Fprintf(&b, "trailer\n<</Size %d /Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return b.Bytes()
}

// stream returns the body of a stream object with data (unfiltered).
func stream(dict string, data string) string {
	return fmt.Sprintf("<<%s /Length %d>>\nstream\n%s\nendstream", dict, len(data), data)
}

func flateStream(dict string, data string) string {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte(data))
	zw.Close()
	return fmt.Sprintf("<<%s /Filter /FlateDecode /Length %d>>\nstream\n%s\nendstream", dict, z.Len(), z.Bytes())
}

// wantError checks that err is a *chungthuc.Error with code and a message containing
// every one of parts.
func wantError(t testing.TB, err error, code string, parts ...string) {
	t.Helper()
	var e *chungthuc.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *chungthuc.Error %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("code %s (%s), want %s", e.Code, e.Message, code)
	}
	for _, p := range parts {
		if !strings.Contains(e.Message, p) {
			t.Errorf("message %q lacks %q", e.Message, p)
		}
	}
}

// quadrants is a w×h image with red, green, blue and white quadrants (TL, TR, BL, BR).
func quadrants(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{255, 255, 255, 255}
			switch {
			case x < w/2 && y < h/2:
				c = color.RGBA{255, 0, 0, 255}
			case y < h/2:
				c = color.RGBA{0, 255, 0, 255}
			case x < w/2:
				c = color.RGBA{0, 0, 255, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

var (
	red   = color.RGBA{255, 0, 0, 255}
	green = color.RGBA{0, 255, 0, 255}
	blue  = color.RGBA{0, 0, 255, 255}
	white = color.RGBA{255, 255, 255, 255}
)
