package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
)

func streamOf(dict string, raw []byte) *Stream {
	d, _, err := ParseObject([]byte("<<" + dict + ">>"))
	if err != nil {
		panic(err)
	}
	return &Stream{Dict: d.(*Dict), Raw: raw, Off: -1}
}

func TestDecodeStream(t *testing.T) {
	text := []byte("0 0 1 rg 10 10 100 100 re f\n")
	// PNG predictors: rows of 3 bytes, one row per filter type (None, Sub, Up, Average, Paeth).
	rows := [][]byte{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10, 20, 30}, {200, 100, 50}}
	var plain, predicted []byte
	prev := []byte{0, 0, 0}
	for ft, row := range rows {
		plain = append(plain, row...)
		predicted = append(predicted, byte(ft))
		for j := range row {
			var a, c byte
			if j > 0 {
				a, c = row[j-1], prev[j-1]
			}
			switch ft {
			case 0:
				predicted = append(predicted, row[j])
			case 1:
				predicted = append(predicted, row[j]-a)
			case 2:
				predicted = append(predicted, row[j]-prev[j])
			case 3:
				predicted = append(predicted, row[j]-byte((int(a)+int(prev[j]))/2))
			case 4:
				predicted = append(predicted, row[j]-paeth(a, prev[j], c))
			}
		}
		prev = row
	}
	for _, c := range []struct {
		name, dict string
		raw, want  []byte
	}{
		{"none", "", text, text},
		{"flate", "/Filter /FlateDecode", deflate(text), text},
		{"abbreviated", "/Filter /Fl", deflate(text), text},
		{"flate in an array", "/Filter [/FlateDecode]", deflate(text), text},
		{"hex", "/Filter /AHx", []byte("48 65\n6C6c6>"), []byte("Hell`")},
		{"ascii85", "/Filter /ASCII85Decode", []byte("<~87cURD]i,\"Ebo80~>"), []byte("Hello World!")},
		{"ascii85 z and partial", "/Filter /A85", []byte("z!!!$$~>"), []byte{0, 0, 0, 0, 0, 0, 1, 2}},
		{"ascii85 without end", "/Filter /A85", []byte("87cURD]j7BEbo7"), []byte("Hello world")},
		{"chain", "/Filter [/AHx /FlateDecode]", []byte(hexOf(deflate(text)) + ">"), text},
		{"png predictors", "/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 3 >>", deflate(predicted), plain},
		{"incomplete last row", "/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 3 >>", deflate(append(predicted, 0, 1)), plain},
		{"predictor 1", "/Filter /FlateDecode /DecodeParms << /Predictor 1 >>", deflate(text), text},
		{"parms in an array", "/Filter [/FlateDecode] /DecodeParms [<< /Predictor 12 /Columns 3 >>]", deflate(predicted), plain},
		{"truncated flate", "/Filter /FlateDecode", deflate(text)[:len(deflate(text))-4], text},
	} {
		got, err := DecodeStream(streamOf(c.dict, c.raw), 1<<20)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	for _, c := range []struct{ name, dict, raw string }{
		{"unsupported", "/Filter /LZWDecode", "x"},
		{"filter not a name", "/Filter [1]", "x"},
		{"bad /Filter", "/Filter 1", "x"},
		{"too many", "/Filter [/AHx /AHx /AHx /AHx /AHx]", "30>"},
		{"bad hex", "/Filter /AHx", "4G>"},
		{"bad ascii85", "/Filter /A85", "\x7f~>"},
		{"ascii85 group out of range", "/Filter /A85", "uuuuu~>"},
		{"ascii85 truncated", "/Filter /A85", "!!!!!!~>"},
		{"not zlib", "/Filter /FlateDecode", "not zlib at all"},
		{"tiff predictor", "/Filter /FlateDecode /DecodeParms << /Predictor 2 >>", string(deflate(text))},
		{"bad png row", "/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 1 >>", string(deflate([]byte{9, 1}))},
		{"bad predictor parms", "/Filter /FlateDecode /DecodeParms << /Predictor 12 /BitsPerComponent 3 >>", string(deflate(text))},
	} {
		if got, err := DecodeStream(streamOf(c.dict, []byte(c.raw)), 1<<20); err == nil {
			t.Errorf("%s: decoded to %q", c.name, got)
		}
	}
	// Bombs: every filter stops at the limit.
	zeros := make([]byte, 4096)
	for _, c := range []struct{ name, dict, raw string }{
		{"flate", "/Filter /FlateDecode", string(deflate(zeros))},
		{"hex", "/Filter /AHx", string(bytes.Repeat([]byte("00"), 4096))},
		{"ascii85", "/Filter /A85", string(bytes.Repeat([]byte("z"), 1024))},
		{"none", "", string(zeros)},
	} {
		if _, err := DecodeStream(streamOf(c.dict, []byte(c.raw)), 1000); !errors.Is(err, ErrBomb) {
			t.Errorf("%s bomb: %v", c.name, err)
		}
	}
}

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestReadAtMost(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 100_000) // 1.6 MB: several chunks
	for _, tc := range []struct {
		name  string
		limit int64
		hint  int64
		bomb  bool
	}{
		{"exact limit", int64(len(data)), 10, false},
		{"one over", int64(len(data)) - 1, 10, true},
		{"small hint", 1 << 30, 1, false},
		{"big hint", 1 << 30, 1 << 30, false},
		{"tiny limit", 3, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadAtMost(iotest.HalfReader(bytes.NewReader(data)), tc.limit, tc.hint)
			if tc.bomb {
				if !errors.Is(err, ErrBomb) || got != nil {
					t.Fatalf("got %d bytes, %v; want ErrBomb", len(got), err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("got %d bytes (equal %v), %v", len(got), bytes.Equal(got, data), err)
			}
		})
	}
	// Empty input; a read error comes back with what was read.
	if got, err := ReadAtMost(bytes.NewReader(nil), 10, 0); err != nil || len(got) != 0 {
		t.Fatalf("empty: %q, %v", got, err)
	}
	boom := errors.New("boom")
	got, err := ReadAtMost(io.MultiReader(bytes.NewReader([]byte("abc")), iotest.ErrReader(boom)), 10, 0)
	if !errors.Is(err, boom) || string(got) != "abc" {
		t.Fatalf("error: %q, %v", got, err)
	}
}

// A stream that inflates to just over the limit is refused having allocated about the
// limit, not the doubled buffer of a bytes.Buffer.
func TestInflateBombAllocations(t *testing.T) {
	const limit = 8 << 20
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(make([]byte, limit+1))
	_ = zw.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := inflate(z.Bytes(), limit); !errors.Is(err, ErrBomb) {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if per := after.TotalAlloc - before.TotalAlloc; per > limit*5/4+(1<<20) {
		t.Fatalf("inflating a bomb over %d bytes allocated %d bytes", limit, per)
	}
}
