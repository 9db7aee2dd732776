package chungthuc

import (
	"bytes"
	"image"
	"image/png"
)

// CheckSealImage accepts a unit's registered seal image: a PNG of at most MaxSealImage bytes
// and MaxImageSide pixels a side, with transparency (an alpha channel or a transparent
// palette entry, and at least one transparent pixel: a seal on a white box would hide the
// signature it overlaps). EINVALID otherwise, saying why.
func CheckSealImage(b []byte) error { return checkPNG("the seal image", b, MaxSealImage) }

// CheckSignatureImage accepts an officer's handwritten signature image under the same rules
// as the seal (PNG, transparent background), bounded by MaxSignatureImage bytes.
func CheckSignatureImage(b []byte) error {
	return checkPNG("the signature image", b, MaxSignatureImage)
}

func checkPNG(what string, b []byte, maxBytes int) error {
	if len(b) == 0 {
		return Errorf(EINVALID, "%s is empty", what)
	}
	if len(b) > maxBytes {
		return Errorf(EINVALID, "%s is %d bytes; at most %d are allowed", what, len(b), maxBytes)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return Errorf(EINVALID, "%s is not a PNG file", what)
	}
	if cfg.Width < 16 || cfg.Height < 16 || cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
		return Errorf(EINVALID, "%s is %d×%d pixels; each side must be 16 to %d", what, cfg.Width, cfg.Height, MaxImageSide)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return Errorf(EINVALID, "%s cannot be decoded as a PNG file", what)
	}
	if !hasTransparency(img) {
		return Errorf(EINVALID, "%s has no transparent background (a PNG with an alpha channel is required)", what)
	}
	return nil
}

// hasTransparency reports whether some pixel of img is not fully opaque.
func hasTransparency(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return !o.Opaque()
	}
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a < 0xffff {
				return true
			}
		}
	}
	return false
}
