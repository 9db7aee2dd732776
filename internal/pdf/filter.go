package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
)

// ErrBomb is returned when a stream decodes to more than the size limit.
var ErrBomb = errors.New("decoded stream exceeds the size limit")

// DecodeStream decodes the data of s through its /Filter chain (at most 4 filters, each
// with its /DecodeParms): FlateDecode with PNG predictors (Predictor >= 10),
// ASCIIHexDecode and ASCII85Decode, abbreviations included. Other filters (LZW,
// RunLength, image filters) are errors: the reader decodes structure and content streams,
// never images. No step produces more than limit bytes (else ErrBomb).
func DecodeStream(s *Stream, limit int64) ([]byte, error) {
	var filters []Name
	var parms []*Dict
	switch f := s.Dict.Get("Filter").(type) {
	case nil:
	case Name:
		filters = []Name{f}
		d, _ := s.Dict.Get("DecodeParms").(*Dict)
		parms = []*Dict{d}
	case Array:
		pa, _ := s.Dict.Get("DecodeParms").(Array)
		for i, x := range f {
			n, ok := x.(Name)
			if !ok {
				return nil, fmt.Errorf("filter is not a name")
			}
			filters = append(filters, n)
			var d *Dict
			if i < len(pa) {
				d, _ = pa[i].(*Dict)
			}
			parms = append(parms, d)
		}
	default:
		return nil, fmt.Errorf("bad /Filter")
	}
	if len(filters) > 4 {
		return nil, fmt.Errorf("too many filters")
	}
	data := s.Raw
	for i, f := range filters {
		var err error
		switch f {
		case "FlateDecode", "Fl":
			data, err = inflate(data, limit)
			if err == nil {
				data, err = unpredict(data, parms[i])
			}
		case "ASCIIHexDecode", "AHx":
			data, err = asciiHex(data, limit)
		case "ASCII85Decode", "A85":
			data, err = ascii85(data, limit)
		default:
			err = fmt.Errorf("unsupported filter %s", f)
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(data)) > limit {
		return nil, ErrBomb
	}
	return data, nil
}

func inflate(b []byte, limit int64) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("flate: %w", err)
	}
	defer zr.Close()
	out, err := ReadAtMost(zr, limit, int64(len(b)))
	if errors.Is(err, ErrBomb) {
		return nil, err
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("flate: %w", err)
	}
	return out, nil
}

// ReadAtMost reads r to its end and returns what it read, or ErrBomb as soon as more than
// limit bytes come (having held at most limit bytes). hint is the size expected (e.g. the
// compressed size), used for the first chunk. Unlike io.ReadAll or a bytes.Buffer, which
// double their buffer and copy on the way, it reads into chunks that are never copied
// while reading and makes one allocation of the exact size at the end: a stream that
// inflates to n bytes costs at most 2n at the peak (n of chunks and the result), not ~3n,
// and a decompression bomb costs the limit, not twice it. A read error other than io.EOF
// is returned with the bytes read so far.
func ReadAtMost(r io.Reader, limit, hint int64) ([]byte, error) {
	const minChunk, maxChunk = 4 << 10, 4 << 20
	size := min(max(hint, minChunk), maxChunk)
	var chunks [][]byte
	var total int64
	var rerr error
	for rerr == nil {
		// A chunk may exceed the limit by one byte: reading it tells a stream of exactly
		// limit bytes from a longer one.
		c := make([]byte, min(size, limit+1-total))
		n := 0
		for n < len(c) && rerr == nil {
			var m int
			m, rerr = r.Read(c[n:])
			n += m
		}
		total += int64(n)
		if n > 0 {
			chunks = append(chunks, c[:n])
		}
		if total > limit {
			return nil, ErrBomb
		}
		size = min(size*2, maxChunk)
	}
	if len(chunks) == 1 {
		return chunks[0], nilEOF(rerr)
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, nilEOF(rerr)
}

func nilEOF(err error) error {
	if err == io.EOF {
		return nil
	}
	return err
}

func asciiHex(b []byte, limit int64) ([]byte, error) {
	out := make([]byte, 0, len(b)/2)
	var hi byte
	half := false
	for _, c := range b {
		if c == '>' {
			break
		}
		if IsWhite(c) {
			continue
		}
		v, ok := HexDigit(c)
		if !ok {
			return nil, fmt.Errorf("ASCIIHex: bad digit")
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	if int64(len(out)) > limit {
		return nil, ErrBomb
	}
	return out, nil
}

// ascii85 decodes ASCII85Decode data up to its "~>" end marker (a missing marker ends
// the data too): white space is ignored, "z" stands for four zero bytes, and a final
// partial group of n characters gives n-1 bytes.
func ascii85(b []byte, limit int64) ([]byte, error) {
	b = bytes.TrimLeft(b, "\x00\t\n\f\r ")
	b = bytes.TrimPrefix(b, []byte("<~"))
	out := make([]byte, 0, min(int64(len(b))*4/5+4, limit+4))
	var v uint64
	n := 0
	for _, c := range b {
		switch {
		case IsWhite(c):
			continue
		case c == '~':
			goto end
		case c == 'z' && n == 0:
			out = append(out, 0, 0, 0, 0)
		case c >= '!' && c <= 'u':
			v = v*85 + uint64(c-'!')
			n++
			if n == 5 {
				if v > 0xffffffff {
					return nil, fmt.Errorf("ASCII85: group out of range")
				}
				out = append(out, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
				v, n = 0, 0
			}
		default:
			return nil, fmt.Errorf("ASCII85: bad character")
		}
		if int64(len(out)) > limit {
			return nil, ErrBomb
		}
	}
end:
	switch {
	case n == 1:
		return nil, fmt.Errorf("ASCII85: truncated group")
	case n > 1:
		for k := n; k < 5; k++ {
			v = v*85 + 84
		}
		if v > 0xffffffff {
			return nil, fmt.Errorf("ASCII85: group out of range")
		}
		out = append(out, []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}[:n-1]...)
	}
	if int64(len(out)) > limit {
		return nil, ErrBomb
	}
	return out, nil
}

// unpredict undoes a PNG predictor (Predictor ≥ 10), as used by cross-reference streams.
func unpredict(b []byte, parms *Dict) ([]byte, error) {
	if parms == nil {
		return b, nil
	}
	pred, _ := IntOf(parms.Get("Predictor"))
	if pred <= 1 {
		return b, nil
	}
	if pred < 10 {
		return nil, fmt.Errorf("unsupported predictor %d", pred)
	}
	cols, ok := IntOf(parms.Get("Columns"))
	if !ok {
		cols = 1
	}
	colors, ok := IntOf(parms.Get("Colors"))
	if !ok {
		colors = 1
	}
	bpc, ok := IntOf(parms.Get("BitsPerComponent"))
	if !ok {
		bpc = 8
	}
	if cols < 1 || cols > 1<<20 || colors < 1 || colors > 32 || (bpc != 1 && bpc != 2 && bpc != 4 && bpc != 8 && bpc != 16) {
		return nil, fmt.Errorf("bad predictor parameters")
	}
	bpp := int((colors*bpc + 7) / 8)
	rowLen := int((cols*colors*bpc + 7) / 8)
	out := make([]byte, 0, len(b))
	prev := make([]byte, rowLen)
	cur := make([]byte, rowLen)
	for i := 0; i+1 <= len(b); i += rowLen + 1 {
		if i+1+rowLen > len(b) {
			break // incomplete last row: ignored, as readers do
		}
		ft := b[i]
		copy(cur, b[i+1:i+1+rowLen])
		for j := 0; j < rowLen; j++ {
			var a, c byte
			if j >= bpp {
				a = cur[j-bpp]
				c = prev[j-bpp]
			}
			up := prev[j]
			switch ft {
			case 0:
			case 1:
				cur[j] += a
			case 2:
				cur[j] += up
			case 3:
				cur[j] += byte((int(a) + int(up)) / 2)
			case 4:
				cur[j] += paeth(a, up, c)
			default:
				return nil, fmt.Errorf("bad PNG filter type %d", ft)
			}
		}
		out = append(out, cur...)
		prev, cur = cur, prev
	}
	return out, nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	if pa <= pb && pa <= pc {
		return a
	} else if pb <= pc {
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
