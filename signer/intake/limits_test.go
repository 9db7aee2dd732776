package intake

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/gif"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

func TestDefaultLimits(t *testing.T) {
	l := DefaultLimits()
	if l.MaxTotalBytes != 50<<20 || l.MaxPages != 100 || l.MaxPixels != 50_000_000 || l.MaxDecode != 128<<20 {
		t.Fatalf("%+v", l)
	}
	if (Limits{}).withDefaults() != l {
		t.Fatal("zero limits are not the defaults")
	}
}

func TestLimits(t *testing.T) {
	j := jpegOf(t, quadrants(40, 30), 80)

	_, _, err := Pages([]File{{"a.jpg", j}, {"b.jpg", j}}, Limits{MaxTotalBytes: int64(len(j)) + 10})
	wantError(t, err, chungthuc.ETOOLARGE, "2 files", "limit")
	_, _, err = Pages([]File{{"big.jpg", j}}, Limits{MaxTotalBytes: 100})
	wantError(t, err, chungthuc.ETOOLARGE, `"big.jpg"`, "limit of 100 bytes")

	_, _, err = Pages([]File{{"a.jpg", j}, {"b.jpg", j}, {"c.jpg", j}}, Limits{MaxPages: 2})
	wantError(t, err, chungthuc.ETOOLARGE, "3 images", "limit of 2")

	// Mixed: 1 image + a 2-page PDF over a limit of 2.
	pdf := buildPDF(
		"<</Type /Catalog /Pages 2 0 R>>",
		"<</Type /Pages /Kids [3 0 R 4 0 R] /Count 2 /MediaBox [0 0 100 100]>>",
		"<</Type /Page /Parent 2 0 R>>", "<</Type /Page /Parent 2 0 R>>",
	)
	_, _, err = Pages([]File{{"a.jpg", j}, {"b.pdf", pdf}}, Limits{MaxPages: 2})
	wantError(t, err, chungthuc.ETOOLARGE, `"b.pdf"`, "2 pages")

	// A PNG whose header claims 100000×100000 is refused from the header: its image data
	// is not even valid zlib, and is never looked at.
	ihdr := binary.BigEndian.AppendUint32(nil, 100000)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 100000)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	bomb := []byte("\x89PNG\r\n\x1A\n")
	bomb = append(bomb, pngChunk("IHDR", ihdr)...)
	bomb = append(bomb, pngChunk("IDAT", []byte("not zlib"))...)
	bomb = append(bomb, pngChunk("IEND", nil)...)
	_, _, err = Pages([]File{{"anh1.png", bomb}}, Limits{})
	wantError(t, err, chungthuc.ETOOLARGE, `"anh1.png"`, "100000×100000", "10000 MP", "limit of 50 MP per image")

	// A JPEG whose frame header claims 65000×65000, with no image data behind it.
	sof := []byte{0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0xFD, 0xE8, 0xFD, 0xE8, 1, 1, 0x11, 0, 0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0x3F, 0, 0xFF, 0xD9}
	_, _, err = Pages([]File{{"anh2.jpg", sof}}, Limits{})
	wantError(t, err, chungthuc.ETOOLARGE, `"anh2.jpg"`, "65000×65000", "4225 MP", "50 MP")

	// A 7000×7000 16-bit RGBA PNG (49 MP, under the pixel limit) would take 49 M × (8 + 3
	// + 1) bytes to decode: refused from its header, before anything is allocated (its
	// image data is not even zlib). Its 8-bit RGB twin is passed through undecoded, and a
	// 16-bit RGBA scan of a normal size is decoded.
	png16 := func(w, h uint32, depth, ct byte) []byte {
		ihdr := binary.BigEndian.AppendUint32(nil, w)
		ihdr = binary.BigEndian.AppendUint32(ihdr, h)
		ihdr = append(ihdr, depth, ct, 0, 0, 0)
		b := []byte("\x89PNG\r\n\x1A\n")
		b = append(b, pngChunk("IHDR", ihdr)...)
		b = append(b, pngChunk("IDAT", []byte("not zlib"))...)
		return append(b, pngChunk("IEND", nil)...)
	}
	_, _, err = Pages([]File{{"anh3.png", png16(7000, 7000, 16, 6)}}, Limits{})
	wantError(t, err, chungthuc.ETOOLARGE, `"anh3.png"`, "7000×7000", "16-bit", "RGBA", "560.8 MB", "limit of 128 MB per image")
	_, _, err = Pages([]File{{"anh4.png", png16(7000, 7000, 8, 4)}}, Limits{})
	wantError(t, err, chungthuc.ETOOLARGE, `"anh4.png"`, "grey with alpha", "limit of 128 MB per image")
	if _, err := readPNG(File{"anh5.png", png16(7000, 7000, 8, 2)}, DefaultLimits()); err != nil {
		t.Fatalf("an 8-bit RGB PNG (passed through, never decoded): %v", err)
	}
	if _, err := readPNG(File{"anh6.png", png16(2480, 3508, 16, 6)}, DefaultLimits()); err != nil {
		t.Fatalf("a 16-bit RGBA A4 scan at 300 dpi: %v", err)
	}
	_, _, err = Pages([]File{{"anh7.png", png16(2480, 3508, 16, 6)}}, Limits{MaxDecode: 64 << 20})
	wantError(t, err, chungthuc.ETOOLARGE, `"anh7.png"`, "limit of 64 MB per image")

	// A smaller configured limit.
	_, _, err = Pages([]File{{"c.jpg", j}}, Limits{MaxPixels: 1000})
	wantError(t, err, chungthuc.ETOOLARGE, `"c.jpg"`, "40×30", "limit of 1000 pixels")
}

func TestUnsupportedAndDamaged(t *testing.T) {
	var g bytes.Buffer
	gif.Encode(&g, image.NewGray(image.Rect(0, 0, 4, 4)), nil)
	for _, c := range []struct {
		name string
		data []byte
		what string
	}{
		{"a.gif", g.Bytes(), "GIF"},
		{"a.tif", []byte("II*\x00\x08\x00\x00\x00"), "TIFF"},
		{"IMG_0001.HEIC", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), "HEIC"},
		{"a.webp", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "), "WebP"},
		{"a.docx", []byte("PK\x03\x04rest"), "ZIP"},
		{"a.jpg", []byte("hello, this is text"), "not accepted"},
	} {
		_, _, err := Pages([]File{{c.name, c.data}}, Limits{})
		wantError(t, err, chungthuc.EUNSUPPORTED, `"`+c.name+`"`, c.what, "JPEG, PNG or PDF")
	}

	_, _, err := Pages(nil, Limits{})
	wantError(t, err, chungthuc.EINVALID, "no files")
	_, _, err = Pages([]File{{"trống.jpg", nil}}, Limits{})
	wantError(t, err, chungthuc.EINVALID, `"trống.jpg"`, "empty")

	// Every truncation of valid files is a clean error naming the file, never a panic.
	j := jpegOf(t, quadrants(40, 30), 80)
	p := pngOf(t, quadrants(40, 30))
	pg := pngOf(t, image.NewGray(image.Rect(0, 0, 40, 30)))
	pdf := hostilePDF()
	for _, f := range []File{{"t.jpg", j}, {"t.png", p}, {"g.png", pg}, {"t.pdf", pdf}} {
		for n := 1; n < len(f.Data); n += 1 + n/50 {
			pages, _, err := Pages([]File{{f.Name, f.Data[:n]}}, Limits{})
			if err == nil {
				// Truncating a PDF's tail (xref, trailer) can be repaired; what comes
				// out must still be writable.
				assemble(t, pages)
				continue
			}
			var e *chungthuc.Error
			if !errors.As(err, &e) || e.Code == chungthuc.EINTERNAL || !bytes.Contains([]byte(e.Message), []byte(f.Name)) {
				t.Fatalf("%s[:%d]: %v", f.Name, n, err)
			}
		}
	}
	// Flipped bytes in the PNG image data are caught (CRC) and, with the CRC fixed, by
	// inflating (pass-through validation).
	bad := append([]byte{}, pg...)
	i := bytes.Index(bad, []byte("IDAT"))
	bad[i+10] ^= 0xFF
	_, _, err = Pages([]File{{"crc.png", bad}}, Limits{})
	wantError(t, err, chungthuc.EINVALID, `"crc.png"`, "checksum")
	n := int(binary.BigEndian.Uint32(bad[i-4:]))
	binary.BigEndian.PutUint32(bad[i+4+n:], crc32.ChecksumIEEE(bad[i:i+4+n]))
	_, _, err = Pages([]File{{"zlib.png", bad}}, Limits{})
	wantError(t, err, chungthuc.EINVALID, `"zlib.png"`)
}

func TestEmitIntoSeveralWriters(t *testing.T) {
	pages, _, err := Pages([]File{{"a.png", pngOf(t, quadrants(20, 20))}, {"r.pdf", rotatedPDF()}}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []byte)
	for range 4 {
		go func() {
			w := pdfdoc.New("1.7", 1<<16)
			for _, p := range pages {
				if _, _, err := p.Emit(w); err != nil {
					t.Error(err)
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		<-done
	}
}
