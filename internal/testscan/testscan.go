// Package testscan makes realistic-looking scans of Vietnamese civil documents for tests and
// benchmarks: an A4 page at a given resolution with a national header, a title, filled-in
// fields and a red seal, encoded as a JPEG with a JFIF density (so the page size is known) or
// as a PNG with a pHYs chunk.
package testscan

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand"

	"github.com/go-fonts/liberation/liberationserifbold"
	"github.com/go-fonts/liberation/liberationserifregular"
	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Page draws page n of a document at dpi (A4) and returns it.
func Page(n, dpi int) *image.RGBA {
	w, h := 827*dpi/100, 1169*dpi/100
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	// Paper: slightly warm white with faint noise, like a flatbed scan.
	rng := rand.New(rand.NewSource(int64(n)))
	draw.Draw(img, img.Bounds(), &image.Uniform{color.RGBA{250, 248, 242, 255}}, image.Point{}, draw.Src)
	for i := 0; i < w*h/60; i++ {
		x, y := rng.Intn(w), rng.Intn(h)
		v := uint8(225 + rng.Intn(20))
		img.Set(x, y, color.RGBA{v, v, v - 5, 255})
	}
	reg := face(liberationserifregular.TTF, float64(dpi)*11/72)
	bold := face(liberationserifbold.TTF, float64(dpi)*13/72)
	ink := image.NewUniform(color.RGBA{30, 30, 40, 255})
	px := func(mm float64) int { return int(mm / 25.4 * float64(dpi)) }
	centre := func(f font.Face, y int, s string) {
		adv := font.MeasureString(f, s).Round()
		text(img, f, ink, (w-adv)/2, y, s)
	}
	centre(bold, px(25), "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
	centre(reg, px(32), "Độc lập - Tự do - Hạnh phúc")
	centre(bold, px(50), "GIẤY KHAI SINH")
	lines := []string{
		"Họ, chữ đệm, tên: NGUYỄN THỊ HỒNG NHUNG",
		"Ngày, tháng, năm sinh: 12/03/2001    ghi bằng chữ: Ngày mười hai, tháng ba, năm hai nghìn không trăm linh một",
		"Giới tính: Nữ    Dân tộc: Kinh    Quốc tịch: Việt Nam",
		"Nơi sinh: Bệnh viện Đa khoa tỉnh Hòa Bình",
		"Quê quán: Xã Trung Minh, thành phố Hòa Bình, tỉnh Hòa Bình",
		"Số định danh cá nhân: 017301004321",
		"Họ, chữ đệm, tên người mẹ: TRẦN THỊ THỦY    Năm sinh: 1975",
		"Họ, chữ đệm, tên người cha: NGUYỄN VĂN LĨNH    Năm sinh: 1972",
		"Nơi đăng ký khai sinh: Ủy ban nhân dân phường Hòa Bình",
		fmt.Sprintf("Trang %d", n),
	}
	for i, l := range lines {
		text(img, reg, ink, px(25), px(70)+i*px(11), l)
	}
	// A red round seal and a signature scrawl.
	cx, cy, r := px(140), px(210), px(18)
	red := color.RGBA{200, 30, 40, 255}
	for a := 0.0; a < 2*math.Pi; a += 0.5 / float64(r) {
		for d := 0; d < px(1); d++ {
			img.Set(cx+int(float64(r-d)*math.Cos(a)), cy+int(float64(r-d)*math.Sin(a)), red)
			img.Set(cx+int(float64(r*6/10-d)*math.Cos(a)), cy+int(float64(r*6/10-d)*math.Sin(a)), red)
		}
	}
	for t := 0.0; t < 6; t += 0.002 {
		x := px(120) + int(t*float64(px(8)))
		y := px(215) + int(math.Sin(t*3)*float64(px(4)))
		img.Set(x, y, color.RGBA{20, 40, 150, 255})
		img.Set(x, y+1, color.RGBA{20, 40, 150, 255})
	}
	return img
}

func face(ttf []byte, size float64) font.Face {
	f, err := opentype.Parse(ttf)
	if err != nil {
		panic(err)
	}
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		panic(err)
	}
	return fc
}

func text(dst draw.Image, f font.Face, src image.Image, x, y int, s string) {
	d := &font.Drawer{Dst: dst, Src: src, Face: f, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// JPEG encodes img at quality with a JFIF segment declaring dpi.
func JPEG(img image.Image, quality, dpi int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		panic(err)
	}
	raw := b.Bytes()
	app0 := []byte{0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 1, byte(dpi >> 8), byte(dpi), byte(dpi >> 8), byte(dpi), 0, 0}
	out := append([]byte{0xFF, 0xD8}, app0...)
	return append(out, raw[2:]...)
}

// PNG encodes img with a pHYs chunk declaring dpi.
func PNG(img image.Image, dpi int) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	raw := b.Bytes()
	ppm := uint32(math.Round(float64(dpi) / 0.0254))
	chunk := make([]byte, 0, 21)
	chunk = binary.BigEndian.AppendUint32(chunk, 9)
	body := []byte("pHYs")
	body = binary.BigEndian.AppendUint32(body, ppm)
	body = binary.BigEndian.AppendUint32(body, ppm)
	body = append(body, 1)
	chunk = append(chunk, body...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(body))
	// Insert after IHDR (8-byte signature + 25-byte IHDR chunk).
	out := append([]byte{}, raw[:33]...)
	out = append(out, chunk...)
	return append(out, raw[33:]...)
}

// Scans returns n JPEG pages whose total size is close to totalBytes (quality is searched on
// the first page), at dpi.
func Scans(n int, totalBytes int, dpi int) [][]byte {
	target := totalBytes / n
	q := 90
	first := Page(1, dpi)
	for q > 20 {
		if len(JPEG(first, q, dpi)) <= target {
			break
		}
		q -= 5
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = JPEG(Page(i+1, dpi), q, dpi)
	}
	return out
}
