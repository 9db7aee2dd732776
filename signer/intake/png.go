package intake

import (
	"bytes"
	"encoding/binary"
	"github.com/klauspost/compress/zlib"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"

	"github.com/chungthuc/chungthuc"
	"github.com/chungthuc/chungthuc/signer/pdfdoc"
)

// pngInfo is what the chunks of a PNG say (pass 1: no pixel data is inflated).
type pngInfo struct {
	width, height int
	depth         int // bits per sample: 1, 2, 4, 8, 16
	colorType     int // 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA
	interlaced    bool
	palette       []byte // PLTE, RGB triples
	trns          bool   // a tRNS chunk (transparency without an alpha channel)
	idat          [][]byte
	idatLen       int
	dpiX, dpiY    float64
	orientation   int
}

type pngSource struct {
	f    File
	info pngInfo
	// forceDecode makes pages take the decode path even when pass-through is possible
	// (for the benchmark that compares the two).
	forceDecode bool
}

func (*pngSource) pageCount() int { return 1 }

// readPNG checks the chunk structure of a PNG (signature, IHDR first, CRCs, IDAT, IEND)
// and its pixel count, without inflating the image data.
func readPNG(f File, lim Limits) (*pngSource, error) {
	info, ferr := parsePNG(f.Data)
	if ferr != nil {
		return nil, chungthuc.Errorf(ferr.code, "%q: %s", f.Name, ferr.msg)
	}
	if err := tooManyPixels(f.Name, int64(info.width), int64(info.height), lim); err != nil {
		return nil, err
	}
	s := &pngSource{f: f, info: info}
	if cost := info.decodeCost(); !info.passThrough() && cost > lim.MaxDecode {
		return nil, chungthuc.Errorf(chungthuc.ETOOLARGE, "%q: decoding %d×%d pixels (%d-bit, %s) takes %s, more than the limit of %s per image",
			f.Name, info.width, info.height, info.depth, pngColorName(info.colorType), mb(cost), mb(lim.MaxDecode))
	}
	return s, nil
}

// decodeCost is the memory decodedStreams takes for the image, from its header alone: the
// image image/png allocates (bytes per pixel by colour type and depth: 16-bit samples
// take two bytes, alpha and tRNS a fourth channel; interlaced images a second copy while
// the passes are put together) plus the 8-bit samples and the alpha mask made from it.
func (in *pngInfo) decodeCost() int64 {
	px := int64(in.width) * int64(in.height)
	var mem int64
	switch in.colorType {
	case 0: // gray: Gray, Gray16; with tRNS NRGBA(64)
		mem = 1
		if in.trns {
			mem = 4
		}
	case 3: // paletted
		mem = 1
	default: // RGB(A), gray+alpha: RGBA, NRGBA
		mem = 4
	}
	if in.depth == 16 {
		mem *= 2
	}
	if in.interlaced {
		mem *= 2
	}
	nc := int64(3)
	if in.colorType == 0 || in.colorType == 4 || in.colorType == 3 {
		nc = 1
	}
	return px * (mem + nc + 1)
}

func pngColorName(ct int) string {
	switch ct {
	case 0:
		return "grey"
	case 2:
		return "RGB"
	case 3:
		return "palette"
	case 4:
		return "grey with alpha"
	}
	return "RGBA"
}

func parsePNG(b []byte) (pngInfo, *formatError) {
	info := pngInfo{orientation: 1}
	if len(b) < 8 || string(b[:8]) != "\x89PNG\r\n\x1A\n" {
		return info, invalid("not a PNG image")
	}
	p := 8
	seenIHDR, seenIEND := false, false
	for !seenIEND {
		if p+8 > len(b) {
			return info, invalid("truncated PNG image")
		}
		n := int64(binary.BigEndian.Uint32(b[p:]))
		typ := string(b[p+4 : p+8])
		if n > int64(len(b)-p-12) {
			return info, invalid("truncated PNG image (chunk " + printable(typ) + " runs past the end)")
		}
		data := b[p+8 : p+8+int(n)]
		if crc32.ChecksumIEEE(b[p+4:p+8+int(n)]) != binary.BigEndian.Uint32(b[p+8+int(n):]) {
			return info, invalid("damaged PNG image (checksum mismatch in chunk " + printable(typ) + ")")
		}
		p += 12 + int(n)
		if !seenIHDR && typ != "IHDR" {
			return info, invalid("damaged PNG image (IHDR is not the first chunk)")
		}
		switch typ {
		case "IHDR":
			if seenIHDR || len(data) != 13 {
				return info, invalid("damaged PNG image (bad IHDR)")
			}
			seenIHDR = true
			w, h := binary.BigEndian.Uint32(data), binary.BigEndian.Uint32(data[4:])
			if w == 0 || h == 0 || w > 1<<31-1 || h > 1<<31-1 {
				return info, invalid("damaged PNG image (bad dimensions)")
			}
			info.width, info.height = int(w), int(h)
			info.depth, info.colorType = int(data[8]), int(data[9])
			if data[10] != 0 || data[11] != 0 || data[12] > 1 {
				return info, invalid("damaged PNG image (unknown compression, filter or interlace method)")
			}
			info.interlaced = data[12] == 1
			ok := false
			switch info.colorType {
			case 0:
				ok = info.depth == 1 || info.depth == 2 || info.depth == 4 || info.depth == 8 || info.depth == 16
			case 3:
				ok = info.depth == 1 || info.depth == 2 || info.depth == 4 || info.depth == 8
			case 2, 4, 6:
				ok = info.depth == 8 || info.depth == 16
			}
			if !ok {
				return info, invalid("damaged PNG image (bad colour type and bit depth)")
			}
		case "PLTE":
			if len(data) == 0 || len(data)%3 != 0 || len(data) > 3*256 {
				return info, invalid("damaged PNG image (bad palette)")
			}
			info.palette = data
		case "tRNS":
			info.trns = true
		case "pHYs":
			if len(data) == 9 && data[8] == 1 { // pixels per metre
				info.dpiX = float64(binary.BigEndian.Uint32(data)) * 0.0254
				info.dpiY = float64(binary.BigEndian.Uint32(data[4:])) * 0.0254
			}
		case "eXIf":
			info.orientation = parseExif(data).orientation
		case "IDAT":
			info.idat = append(info.idat, data)
			info.idatLen += len(data)
		case "IEND":
			seenIEND = true
		}
	}
	if len(info.idat) == 0 {
		return info, invalid("damaged PNG image (no image data)")
	}
	if info.colorType == 3 && info.palette == nil {
		return info, invalid("damaged PNG image (palette image without a palette)")
	}
	return info, nil
}

// passThrough reports whether the PNG's zlib data can go into the PDF unchanged, with a
// PNG predictor: not interlaced, no alpha channel or tRNS, at most 8 bits per sample.
func (in *pngInfo) passThrough() bool {
	if in.interlaced || in.trns || in.depth > 8 {
		return false
	}
	return in.colorType == 0 || in.colorType == 2 || in.colorType == 3
}

func (s *pngSource) pages(Limits, *Report) ([]Page, error) {
	in := &s.info
	var img, smask *pdfdoc.Stream
	var err error
	if in.passThrough() && !s.forceDecode {
		img, err = s.passThroughStream()
	} else {
		img, smask, err = s.decodedStreams()
	}
	if err != nil {
		return nil, err
	}
	l := layoutImage(in.width, in.height, in.dpiX, in.dpiY, in.orientation)
	content := drawContent(l.m)
	return []Page{{
		Width: l.pageW, Height: l.pageH, Source: s.f.Name, DPI: l.dpi, ImageBox: l.box,
		Emit: func(w *pdfdoc.Writer) (pdfdoc.Dict, []byte, error) {
			d := make(pdfdoc.Dict, len(img.Dict)+1)
			for k, v := range img.Dict {
				d[k] = v
			}
			if smask != nil {
				d["SMask"] = w.Add(smask)
			}
			ref := w.Add(&pdfdoc.Stream{Dict: d, Data: img.Data})
			return pdfdoc.Dict{"XObject": pdfdoc.Dict{"S0": ref}}, content, nil
		},
	}}, nil
}

func (s *pngSource) corrupt(detail string) error {
	return chungthuc.Errorf(chungthuc.EINVALID, "%q: damaged PNG image (%s)", s.f.Name, detail)
}

// passThroughStream validates the zlib data by inflating it (row filter bytes, exact
// length, Adler-32) without keeping the pixels, and returns the IDAT data as the stream.
func (s *pngSource) passThroughStream() (*pdfdoc.Stream, error) {
	in := &s.info
	colors := map[int]int{0: 1, 2: 3, 3: 1}[in.colorType]
	rowBytes := (int64(in.width)*int64(colors*in.depth) + 7) / 8
	want := int64(in.height) * (rowBytes + 1)
	var z []byte
	if len(in.idat) == 1 {
		z = in.idat[0]
	} else {
		z = make([]byte, 0, in.idatLen)
		for _, c := range in.idat {
			z = append(z, c...)
		}
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, s.corrupt("bad zlib header")
	}
	buf := make([]byte, 64<<10)
	var got int64
	next := int64(0) // offset of the next row's filter byte
	for {
		n, err := zr.Read(buf)
		for next < got+int64(n) {
			if buf[next-got] > 4 {
				return nil, s.corrupt("bad row filter")
			}
			next += rowBytes + 1
		}
		got += int64(n)
		if got > want {
			return nil, s.corrupt("too much pixel data")
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, s.corrupt("bad compressed data")
		}
	}
	if got != want {
		return nil, s.corrupt("not enough pixel data")
	}
	d := pdfdoc.Dict{
		"Type": pdfdoc.Name("XObject"), "Subtype": pdfdoc.Name("Image"),
		"Width": pdfdoc.Int(in.width), "Height": pdfdoc.Int(in.height),
		"BitsPerComponent": pdfdoc.Int(in.depth), "Filter": pdfdoc.Name("FlateDecode"),
		"DecodeParms": pdfdoc.Dict{"Predictor": pdfdoc.Int(15), "Colors": pdfdoc.Int(colors),
			"BitsPerComponent": pdfdoc.Int(in.depth), "Columns": pdfdoc.Int(in.width)},
	}
	switch in.colorType {
	case 0:
		d["ColorSpace"] = pdfdoc.Name("DeviceGray")
	case 2:
		d["ColorSpace"] = pdfdoc.Name("DeviceRGB")
	case 3:
		// Pad the palette to 2^depth entries so that any index is defined.
		pal := make([]byte, 3<<in.depth)
		copy(pal, in.palette)
		d["ColorSpace"] = pdfdoc.Array{pdfdoc.Name("Indexed"), pdfdoc.Name("DeviceRGB"), pdfdoc.Int(1<<in.depth - 1), pdfdoc.Hex(pal)}
	}
	return &pdfdoc.Stream{Dict: d, Data: z}, nil
}

// decodedStreams decodes the PNG fully and returns 8-bit samples compressed with Flate,
// with the alpha channel (if any pixel is not opaque) as a separate soft mask.
func (s *pngSource) decodedStreams() (img, smask *pdfdoc.Stream, err error) {
	in := &s.info
	m, err := decodePNG(s.f.Data)
	if err != nil {
		return nil, nil, s.corrupt(err.Error())
	}
	b := m.Bounds()
	w, h := b.Dx(), b.Dy()
	if w != in.width || h != in.height {
		return nil, nil, s.corrupt("size mismatch")
	}
	gray := in.colorType == 0 || in.colorType == 4
	nc := 3
	if gray {
		nc = 1
	}
	var pix, alpha []byte
	var cs pdfdoc.Object
	opaque := true
	switch m := m.(type) {
	case *image.Paletted:
		// Indexed colour: keep the indices, move any transparency to a soft mask.
		pix = make([]byte, 0, w*h)
		for y := 0; y < h; y++ {
			pix = append(pix, m.Pix[y*m.Stride:y*m.Stride+w]...)
		}
		pal := make([]byte, 3*256)
		as := make([]byte, 256)
		for i := range as {
			as[i] = 255
		}
		for i, c := range m.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			pal[3*i], pal[3*i+1], pal[3*i+2], as[i] = n.R, n.G, n.B, n.A
		}
		alpha = make([]byte, w*h)
		for i, ix := range pix {
			alpha[i] = as[ix]
			if as[ix] != 255 {
				opaque = false
			}
		}
		cs = pdfdoc.Array{pdfdoc.Name("Indexed"), pdfdoc.Name("DeviceRGB"), pdfdoc.Int(255), pdfdoc.Hex(pal)}
		nc = 1
	case *image.Gray:
		pix = make([]byte, 0, w*h)
		for y := 0; y < h; y++ {
			pix = append(pix, m.Pix[y*m.Stride:y*m.Stride+w]...)
		}
	default:
		pix = make([]byte, w*h*nc)
		alpha = make([]byte, w*h)
		i, j := 0, 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := nrgba(m, x, y)
				if gray {
					pix[i] = c.R
				} else {
					pix[i], pix[i+1], pix[i+2] = c.R, c.G, c.B
				}
				i += nc
				alpha[j] = c.A
				if c.A != 255 {
					opaque = false
				}
				j++
			}
		}
	}
	if cs == nil {
		cs = pdfdoc.Name("DeviceRGB")
		if nc == 1 {
			cs = pdfdoc.Name("DeviceGray")
		}
	}
	img = pdfdoc.FlateStream(pdfdoc.Dict{
		"Type": pdfdoc.Name("XObject"), "Subtype": pdfdoc.Name("Image"),
		"Width": pdfdoc.Int(w), "Height": pdfdoc.Int(h), "ColorSpace": cs, "BitsPerComponent": pdfdoc.Int(8),
	}, pix)
	if !opaque {
		smask = pdfdoc.FlateStream(pdfdoc.Dict{
			"Type": pdfdoc.Name("XObject"), "Subtype": pdfdoc.Name("Image"),
			"Width": pdfdoc.Int(w), "Height": pdfdoc.Int(h), "ColorSpace": pdfdoc.Name("DeviceGray"), "BitsPerComponent": pdfdoc.Int(8),
		}, alpha)
	}
	return img, smask, nil
}

// nrgba returns the non-premultiplied 8-bit colour at (x, y), fast for the types
// image/png produces.
func nrgba(m image.Image, x, y int) color.NRGBA {
	switch m := m.(type) {
	case *image.NRGBA:
		i := m.PixOffset(x, y)
		return color.NRGBA{m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3]}
	case *image.RGBA:
		i := m.PixOffset(x, y)
		if m.Pix[i+3] == 255 {
			return color.NRGBA{m.Pix[i], m.Pix[i+1], m.Pix[i+2], 255}
		}
	case *image.NRGBA64:
		i := m.PixOffset(x, y)
		return color.NRGBA{m.Pix[i], m.Pix[i+2], m.Pix[i+4], m.Pix[i+6]}
	case *image.Gray16:
		i := m.PixOffset(x, y)
		return color.NRGBA{m.Pix[i], m.Pix[i], m.Pix[i], 255}
	}
	return color.NRGBAModel.Convert(m.At(x, y)).(color.NRGBA)
}

// decodePNG decodes with image/png, turning a panic inside the decoder into an error.
func decodePNG(b []byte) (m image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, errDecoder
		}
	}()
	m, err = png.Decode(bytes.NewReader(b))
	if err != nil {
		err = errDecoder
	}
	return m, err
}

var errDecoder = decodeError("the image data cannot be decoded")

type decodeError string

func (e decodeError) Error() string { return string(e) }

func printable(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}
