package signer

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/internal/testscan"
)

// sealPNG draws a registered-looking seal: red rings and a star on a transparent background.
func sealPNG(px int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, px, px))
	red := color.NRGBA{210, 20, 30, 255}
	c := float64(px) / 2
	for y := 0; y < px; y++ {
		for x := 0; x < px; x++ {
			d := math.Hypot(float64(x)+0.5-c, float64(y)+0.5-c) / c
			if (d > 0.92 && d <= 1) || (d > 0.84 && d < 0.87) || (d > 0.40 && d < 0.43) || d < 0.12 {
				img.Set(x, y, red)
			}
		}
	}
	return encodePNG(img)
}

// signaturePNG draws a blue handwritten-like scrawl on a transparent background.
func signaturePNG(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	blue := color.NRGBA{20, 40, 170, 255}
	for t := 0.0; t < 1; t += 0.0005 {
		x := int(float64(w) * (0.05 + 0.9*t))
		y := int(float64(h)/2 + math.Sin(t*18)*float64(h)*0.3*(1-t*0.5))
		for dy := -2; dy <= 2; dy++ {
			img.Set(x, y+dy, blue)
		}
	}
	return encodePNG(img)
}

func encodePNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// borderScan is a scan of w×h pixels declaring dpi (0: none): white, with a green border of
// border pixels all round and a 12-pixel black bar (the "serial number") ending 28 px above the
// bottom edge.
func borderScan(w, h, border, dpi int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{255, 255, 255, 255}
			switch {
			case x < border || y < border || x >= w-border || y >= h-border:
				c = color.RGBA{0, 200, 0, 255}
			case y >= h-28-12 && y < h-28 && x > w/4 && x < w*3/4:
				c = color.RGBA{0, 0, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	if dpi == 0 {
		return encodePNG(img)
	}
	return testscan.PNG(img, dpi)
}

// richRequest is a request with a three-line title, a seal and a signature image.
func (f *fixture) richRequest(scans [][]byte) chungthuc.CopyRequest {
	req := f.request(scans, "Nguyễn Thị Minh Khai")
	req.Scans[0].Name = "trang1.png"
	req.UnitBody, req.Province = "Ủy ban nhân dân phường Hòa Bình", "tỉnh Phú Thọ"
	req.TitleLines = []string{"TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"}
	req.SealImage, req.SealSizeMM = sealPNG(420), 36
	req.SignatureImage = signaturePNG(600, 240)
	return req
}

// TestSampleRender writes a copy with a three-line title, seal and signature images and a
// bottom-edge-text scan to $CHUNGTHUC_SAMPLE_DIR (for looking at it); skipped without it.
func TestSampleRender(t *testing.T) {
	dir := os.Getenv("CHUNGTHUC_SAMPLE_DIR")
	if dir == "" {
		t.Skip("CHUNGTHUC_SAMPLE_DIR not set")
	}
	f := newFixture("Nguyễn Thị Minh Khai")
	req := f.richRequest([][]byte{borderScan(827, 1169, 20, 100)})
	res, err := testSigner.MakeCopy(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "rich.pdf"), res.PDF, 0o644)
	req = f.request([][]byte{borderScan(827, 1169, 20, 100)}, "Trần Văn Nghĩa")
	req.Scans[0].Name = "a.png"
	req.UnitBody, req.Province, req.SealDemo = "Ủy ban nhân dân phường Hòa Bình", "tỉnh Phú Thọ", true
	res, err = testSigner.MakeCopy(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "demo.pdf"), res.PDF, 0o644)
	_ = strings.TrimSpace
}
