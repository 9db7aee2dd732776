package intake

import (
	"bytes"
	"encoding/binary"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

// jpegInfo is what the JPEG markers say; the entropy-coded data is never decoded.
type jpegInfo struct {
	width, height int
	components    int
	adobe         bool // an Adobe APP14 segment: 4-component data is stored inverted
	orientation   int  // EXIF orientation, 1–8
	dpiX, dpiY    float64
}

type jpegSource struct {
	f    File
	info jpegInfo
}

func (*jpegSource) pageCount() int { return 1 }

// readJPEG checks the structure of a JPEG (SOI, one SOF, SOS, EOI, every segment inside the
// file) and reads its size, colour, orientation and resolution, without decoding the
// image. ETOOLARGE if it has too many pixels.
func readJPEG(f File, lim Limits) (*jpegSource, error) {
	info, err := parseJPEG(f.Data)
	if err != nil {
		return nil, chungthuc.Errorf(err.code, "%q: %s", f.Name, err.msg)
	}
	if err := tooManyPixels(f.Name, int64(info.width), int64(info.height), lim); err != nil {
		return nil, err
	}
	return &jpegSource{f: f, info: info}, nil
}

func (s *jpegSource) pages(Limits, *Report) ([]Page, error) {
	in := s.info
	l := layoutImage(in.width, in.height, in.dpiX, in.dpiY, in.orientation)
	cs := map[int]pdfdoc.Name{1: "DeviceGray", 3: "DeviceRGB", 4: "DeviceCMYK"}[in.components]
	d := pdfdoc.Dict{
		"Type": pdfdoc.Name("XObject"), "Subtype": pdfdoc.Name("Image"),
		"Width": pdfdoc.Int(in.width), "Height": pdfdoc.Int(in.height),
		"ColorSpace": cs, "BitsPerComponent": pdfdoc.Int(8), "Filter": pdfdoc.Name("DCTDecode"),
	}
	if in.components == 4 && in.adobe {
		d["Decode"] = pdfdoc.Array{pdfdoc.Int(1), pdfdoc.Int(0), pdfdoc.Int(1), pdfdoc.Int(0), pdfdoc.Int(1), pdfdoc.Int(0), pdfdoc.Int(1), pdfdoc.Int(0)}
	}
	data := s.f.Data
	content := drawContent(l.m)
	return []Page{{
		Width: l.pageW, Height: l.pageH, Source: s.f.Name,
		Emit: func(w *pdfdoc.Writer) (pdfdoc.Dict, []byte, error) {
			img := w.Add(&pdfdoc.Stream{Dict: d, Data: data})
			return pdfdoc.Dict{"XObject": pdfdoc.Dict{"S0": img}}, content, nil
		},
	}}, nil
}

// formatError is a parse failure: a code and a message without the file name.
type formatError struct {
	code, msg string
}

func invalid(msg string) *formatError     { return &formatError{chungthuc.EINVALID, msg} }
func unsupported(msg string) *formatError { return &formatError{chungthuc.EUNSUPPORTED, msg} }

// parseJPEG walks the marker segments of b. The entropy-coded data after each SOS is
// skipped by looking for the next marker (0xFF not followed by 0x00 or a restart marker).
func parseJPEG(b []byte) (jpegInfo, *formatError) {
	info := jpegInfo{orientation: 1}
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return info, invalid("not a JPEG image (no start-of-image marker)")
	}
	var jfifX, jfifY, exifX, exifY float64
	sof, sos := false, false
	p := 2
	for {
		// Find the marker: 0xFF, optional 0xFF fill bytes, then the code.
		if p >= len(b) || b[p] != 0xFF {
			return info, invalid("damaged JPEG image (marker expected)")
		}
		for p < len(b) && b[p] == 0xFF {
			p++
		}
		if p >= len(b) {
			return info, invalid("truncated JPEG image")
		}
		m := b[p]
		p++
		switch {
		case m == 0xD9: // EOI
			if !sof || !sos {
				return info, invalid("damaged JPEG image (no frame or scan)")
			}
			return jfifOrExif(info, jfifX, jfifY, exifX, exifY), nil
		case m == 0xD8 || m == 0x00:
			return info, invalid("damaged JPEG image (unexpected marker)")
		case m >= 0xD0 && m <= 0xD7 || m == 0x01: // RST, TEM: no length
			continue
		}
		if p+2 > len(b) {
			return info, invalid("truncated JPEG image")
		}
		n := int(binary.BigEndian.Uint16(b[p:]))
		if n < 2 || p+n > len(b) {
			return info, invalid("damaged JPEG image (a segment runs past the end of the file)")
		}
		seg := b[p+2 : p+n]
		p += n
		switch {
		case m == 0xC0 || m == 0xC1 || m == 0xC2:
			if sof {
				return info, invalid("damaged JPEG image (two frame headers)")
			}
			sof = true
			if len(seg) < 6 {
				return info, invalid("damaged JPEG image (short frame header)")
			}
			if seg[0] != 8 {
				return info, unsupported("JPEG images with " + itoa(int(seg[0])) + "-bit samples are not accepted (8-bit only)")
			}
			info.height = int(binary.BigEndian.Uint16(seg[1:]))
			info.width = int(binary.BigEndian.Uint16(seg[3:]))
			info.components = int(seg[5])
			if info.width == 0 || info.height == 0 {
				return info, unsupported("JPEG images without their height in the frame header are not accepted")
			}
			if c := info.components; c != 1 && c != 3 && c != 4 {
				return info, unsupported("JPEG images with " + itoa(c) + " colour components are not accepted")
			}
			if len(seg) < 6+3*info.components {
				return info, invalid("damaged JPEG image (short frame header)")
			}
		case m >= 0xC3 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			return info, unsupported("lossless, hierarchical or arithmetic-coded JPEG images are not accepted")
		case m == 0xDA: // SOS: skip the entropy-coded data that follows
			if !sof {
				return info, invalid("damaged JPEG image (scan before frame header)")
			}
			sos = true
			for {
				i := bytes.IndexByte(b[p:], 0xFF)
				if i < 0 {
					return info, invalid("truncated JPEG image (no end-of-image marker)")
				}
				p += i
				if p+1 >= len(b) {
					return info, invalid("truncated JPEG image (no end-of-image marker)")
				}
				if c := b[p+1]; c == 0x00 || c >= 0xD0 && c <= 0xD7 || c == 0xFF {
					p += 2
					if c == 0xFF {
						p-- // fill byte: look again from the second 0xFF
					}
					continue
				}
				break
			}
		case m == 0xE0 && len(seg) >= 12 && string(seg[:5]) == "JFIF\x00":
			units := seg[7]
			x, y := float64(binary.BigEndian.Uint16(seg[8:])), float64(binary.BigEndian.Uint16(seg[10:]))
			switch units {
			case 1:
				jfifX, jfifY = x, y
			case 2:
				jfifX, jfifY = x*2.54, y*2.54
			}
		case m == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00":
			e := parseExif(seg[6:])
			info.orientation = e.orientation
			exifX, exifY = e.dpiX, e.dpiY
		case m == 0xEE && len(seg) >= 5 && string(seg[:5]) == "Adobe":
			info.adobe = true
		}
	}
}

// jfifOrExif prefers the JFIF density, then the EXIF resolution.
func jfifOrExif(info jpegInfo, jx, jy, ex, ey float64) jpegInfo {
	if jx > 0 && jy > 0 {
		info.dpiX, info.dpiY = jx, jy
	} else if ex > 0 && ey > 0 {
		info.dpiX, info.dpiY = ex, ey
	}
	return info
}

func itoa(i int) string { return string(pdfdoc.Bytes(pdfdoc.Int(i))) }
