package intake

import "encoding/binary"

// exifInfo is what intake uses of an EXIF block: orientation (1–8, 1 if absent or
// invalid) and resolution in dots per inch (0 if absent).
type exifInfo struct {
	orientation int
	dpiX, dpiY  float64
}

// parseExif reads IFD0 of a TIFF-structured EXIF block (the part after "Exif\0\0").
// Anything malformed is ignored: EXIF is advisory, the image itself is what counts.
func parseExif(b []byte) exifInfo {
	e := exifInfo{orientation: 1}
	if len(b) < 8 {
		return e
	}
	var bo binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return e
	}
	ifd := int64(bo.Uint32(b[4:]))
	if ifd < 8 || ifd+2 > int64(len(b)) {
		return e
	}
	n := int64(bo.Uint16(b[ifd:]))
	rational := func(off uint32) float64 {
		o := int64(off)
		if o+8 > int64(len(b)) {
			return 0
		}
		num, den := bo.Uint32(b[o:]), bo.Uint32(b[o+4:])
		if den == 0 {
			return 0
		}
		return float64(num) / float64(den)
	}
	var rx, ry float64
	unit := uint16(2) // inches is the EXIF default
	for i := int64(0); i < n; i++ {
		p := ifd + 2 + 12*i
		if p+12 > int64(len(b)) {
			break
		}
		tag, typ, count := bo.Uint16(b[p:]), bo.Uint16(b[p+2:]), bo.Uint32(b[p+4:])
		switch {
		case tag == 0x0112 && typ == 3 && count >= 1: // Orientation, SHORT
			if o := int(bo.Uint16(b[p+8:])); o >= 1 && o <= 8 {
				e.orientation = o
			}
		case tag == 0x011A && typ == 5 && count >= 1: // XResolution, RATIONAL
			rx = rational(bo.Uint32(b[p+8:]))
		case tag == 0x011B && typ == 5 && count >= 1: // YResolution
			ry = rational(bo.Uint32(b[p+8:]))
		case tag == 0x0128 && typ == 3 && count >= 1: // ResolutionUnit
			unit = bo.Uint16(b[p+8:])
		}
	}
	switch unit {
	case 2:
		e.dpiX, e.dpiY = rx, ry
	case 3:
		e.dpiX, e.dpiY = rx*2.54, ry*2.54
	}
	return e
}
