package testscan

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
)

// SealPNG draws a registered-seal-like image: a red double ring with a star on a transparent
// background, size×size pixels, as a PNG (what `unit set --seal` takes).
func SealPNG(size int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	red := color.NRGBA{R: 0xd0, G: 0x10, B: 0x10, A: 0xff}
	c := float64(size) / 2
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			d := math.Hypot(float64(x)+0.5-c, float64(y)+0.5-c)
			switch {
			case d < c && d > c*0.92, d < c*0.80 && d > c*0.76, d < c*0.18:
				img.SetNRGBA(x, y, red)
			}
		}
	}
	return encode(img)
}

// SignaturePNG draws a handwritten-signature-like blue stroke on a transparent background,
// w×h pixels, as a PNG (what `officer set --signature` takes).
func SignaturePNG(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	blue := color.NRGBA{R: 0x10, G: 0x30, B: 0xb0, A: 0xff}
	for x := w / 10; x < w*9/10; x++ {
		t := float64(x) / float64(w)
		y := int(float64(h)/2 + float64(h)/4*math.Sin(t*4*math.Pi))
		for dy := -1; dy <= 1; dy++ {
			if yy := y + dy; yy >= 0 && yy < h {
				img.SetNRGBA(x, yy, blue)
			}
		}
	}
	return encode(img)
}

func encode(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err) // encoding an in-memory image cannot fail
	}
	return b.Bytes()
}
