package verify

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
)

// errBomb is returned when a stream decodes to more than the configured limit.
var errBomb = errors.New("decoded stream exceeds the size limit")

// decodeStream decodes the data of s (only what the engine needs: FlateDecode with PNG
// predictors, ASCIIHexDecode), never producing more than limit bytes.
func decodeStream(s *pstream, limit int64) ([]byte, error) {
	var filters []pname
	var parms []*pdict
	switch f := s.dict.get("Filter").(type) {
	case nil:
	case pname:
		filters = []pname{f}
		d, _ := s.dict.get("DecodeParms").(*pdict)
		parms = []*pdict{d}
	case parray:
		pa, _ := s.dict.get("DecodeParms").(parray)
		for i, x := range f {
			n, ok := x.(pname)
			if !ok {
				return nil, fmt.Errorf("filter is not a name")
			}
			filters = append(filters, n)
			var d *pdict
			if i < len(pa) {
				d, _ = pa[i].(*pdict)
			}
			parms = append(parms, d)
		}
	default:
		return nil, fmt.Errorf("bad /Filter")
	}
	if len(filters) > 4 {
		return nil, fmt.Errorf("too many filters")
	}
	data := s.data
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
		default:
			err = fmt.Errorf("unsupported filter %s", f)
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(data)) > limit {
		return nil, errBomb
	}
	return data, nil
}

func inflate(b []byte, limit int64) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("flate: %w", err)
	}
	defer zr.Close()
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(zr, limit+1))
	if n > limit {
		return nil, errBomb
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("flate: %w", err)
	}
	return out.Bytes(), nil
}

func asciiHex(b []byte, limit int64) ([]byte, error) {
	out := make([]byte, 0, len(b)/2)
	var hi byte
	half := false
	for _, c := range b {
		if c == '>' {
			break
		}
		if isWhite(c) {
			continue
		}
		v, ok := unhex(c)
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
		return nil, errBomb
	}
	return out, nil
}

// unpredict undoes a PNG predictor (Predictor ≥ 10), as used by cross-reference streams.
func unpredict(b []byte, parms *pdict) ([]byte, error) {
	if parms == nil {
		return b, nil
	}
	pred, _ := intOf(parms.get("Predictor"))
	if pred <= 1 {
		return b, nil
	}
	if pred < 10 {
		return nil, fmt.Errorf("unsupported predictor %d", pred)
	}
	cols, ok := intOf(parms.get("Columns"))
	if !ok {
		cols = 1
	}
	colors, ok := intOf(parms.get("Colors"))
	if !ok {
		colors = 1
	}
	bpc, ok := intOf(parms.get("BitsPerComponent"))
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
