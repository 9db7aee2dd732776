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
		Width: l.pageW, Height: l.pageH, Source: s.f.Name, DPI: l.dpi, ImageBox: l.box,
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

// parseJPEG walks the marker segments of b, one jpegParser step at a time: find the next
// marker, read its segment, and act on it (frame header, scan, JFIF, EXIF, Adobe). The
// entropy-coded data after each SOS is skipped by looking for the next marker (0xFF not
// followed by 0x00 or a restart marker). On error the info read so far is returned too.
func parseJPEG(b []byte) (jpegInfo, *formatError) {
	j := &jpegParser{b: b, p: 2, info: jpegInfo{orientation: 1}}
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return j.info, invalid("not a JPEG image (no start-of-image marker)")
	}
	for {
		m, err := j.nextMarker()
		if err != nil {
			return j.info, err
		}
		switch {
		case m == 0xD9: // EOI
			return j.end()
		case m == 0xD8 || m == 0x00:
			return j.info, invalid("damaged JPEG image (unexpected marker)")
		case m >= 0xD0 && m <= 0xD7 || m == 0x01: // RST, TEM: no length
			continue
		}
		seg, err := j.segment()
		if err != nil {
			return j.info, err
		}
		if err := j.handle(m, seg); err != nil {
			return j.info, err
		}
	}
}

// jpegParser is the state of parseJPEG: the position in b, what was read, and the
// resolutions found in JFIF and EXIF segments (JFIF wins, see jfifOrExif).
type jpegParser struct {
	b        []byte
	p        int
	info     jpegInfo
	sof, sos bool // a frame header, a scan seen

	jfifX, jfifY, exifX, exifY float64
}

// nextMarker reads a marker at the position: 0xFF, optional 0xFF fill bytes, then the code.
func (j *jpegParser) nextMarker() (byte, *formatError) {
	b := j.b
	if j.p >= len(b) || b[j.p] != 0xFF {
		return 0, invalid("damaged JPEG image (marker expected)")
	}
	for j.p < len(b) && b[j.p] == 0xFF {
		j.p++
	}
	if j.p >= len(b) {
		return 0, invalid("truncated JPEG image")
	}
	m := b[j.p]
	j.p++
	return m, nil
}

// segment reads the length of the marker segment at the position and returns its body,
// which must lie inside the file.
func (j *jpegParser) segment() ([]byte, *formatError) {
	b := j.b
	if j.p+2 > len(b) {
		return nil, invalid("truncated JPEG image")
	}
	n := int(binary.BigEndian.Uint16(b[j.p:]))
	if n < 2 || j.p+n > len(b) {
		return nil, invalid("damaged JPEG image (a segment runs past the end of the file)")
	}
	seg := b[j.p+2 : j.p+n]
	j.p += n
	return seg, nil
}

// handle acts on the segment seg of marker m; segments it does not know are skipped.
func (j *jpegParser) handle(m byte, seg []byte) *formatError {
	switch {
	case m == 0xC0 || m == 0xC1 || m == 0xC2: // baseline, extended, progressive
		return j.frame(seg)
	case m >= 0xC3 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
		return unsupported("lossless, hierarchical or arithmetic-coded JPEG images are not accepted")
	case m == 0xDA: // SOS
		if !j.sof {
			return invalid("damaged JPEG image (scan before frame header)")
		}
		j.sos = true
		return j.skipScan()
	case m == 0xE0 && len(seg) >= 12 && string(seg[:5]) == "JFIF\x00":
		j.jfifDensity(seg)
	case m == 0xE1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00":
		e := parseExif(seg[6:])
		j.info.orientation = e.orientation
		j.exifX, j.exifY = e.dpiX, e.dpiY
	case m == 0xEE && len(seg) >= 5 && string(seg[:5]) == "Adobe":
		j.info.adobe = true
	}
	return nil
}

// frame reads the one frame header: 8-bit samples, the size, and 1, 3 or 4 components.
func (j *jpegParser) frame(seg []byte) *formatError {
	if j.sof {
		return invalid("damaged JPEG image (two frame headers)")
	}
	j.sof = true
	if len(seg) < 6 {
		return invalid("damaged JPEG image (short frame header)")
	}
	if seg[0] != 8 {
		return unsupported("JPEG images with " + itoa(int(seg[0])) + "-bit samples are not accepted (8-bit only)")
	}
	j.info.height = int(binary.BigEndian.Uint16(seg[1:]))
	j.info.width = int(binary.BigEndian.Uint16(seg[3:]))
	j.info.components = int(seg[5])
	if j.info.width == 0 || j.info.height == 0 {
		return unsupported("JPEG images without their height in the frame header are not accepted")
	}
	if c := j.info.components; c != 1 && c != 3 && c != 4 {
		return unsupported("JPEG images with " + itoa(c) + " colour components are not accepted")
	}
	if len(seg) < 6+3*j.info.components {
		return invalid("damaged JPEG image (short frame header)")
	}
	return nil
}

// skipScan moves past the entropy-coded data after a scan header, to the next marker:
// 0xFF followed by anything but 0x00 (a stuffed byte), a restart marker or another 0xFF
// (a fill byte).
func (j *jpegParser) skipScan() *formatError {
	b := j.b
	for {
		i := bytes.IndexByte(b[j.p:], 0xFF)
		if i < 0 {
			return invalid("truncated JPEG image (no end-of-image marker)")
		}
		j.p += i
		if j.p+1 >= len(b) {
			return invalid("truncated JPEG image (no end-of-image marker)")
		}
		c := b[j.p+1]
		if c != 0x00 && (c < 0xD0 || c > 0xD7) && c != 0xFF {
			return nil
		}
		j.p += 2
		if c == 0xFF {
			j.p-- // fill byte: look again from the second 0xFF
		}
	}
}

// jfifDensity reads the pixel density of a JFIF APP0 segment (dots per inch or per cm).
func (j *jpegParser) jfifDensity(seg []byte) {
	units := seg[7]
	x, y := float64(binary.BigEndian.Uint16(seg[8:])), float64(binary.BigEndian.Uint16(seg[10:]))
	switch units {
	case 1:
		j.jfifX, j.jfifY = x, y
	case 2:
		j.jfifX, j.jfifY = x*2.54, y*2.54
	}
}

// end checks, at the end-of-image marker, that a frame and a scan were seen, and settles
// the resolution.
func (j *jpegParser) end() (jpegInfo, *formatError) {
	if !j.sof || !j.sos {
		return j.info, invalid("damaged JPEG image (no frame or scan)")
	}
	return jfifOrExif(j.info, j.jfifX, j.jfifY, j.exifX, j.exifY), nil
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
