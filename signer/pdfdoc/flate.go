package pdfdoc

import (
	"bytes"
	"compress/zlib"
	"sync"
)

var zpool = sync.Pool{New: func() any { w, _ := zlib.NewWriterLevel(nil, zlib.BestSpeed); return w }}

// Deflate compresses data for a /FlateDecode stream (zlib format, fast level).
func Deflate(data []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(data)/2 + 64)
	z := zpool.Get().(*zlib.Writer)
	z.Reset(&b)
	// The writer fails only when the bytes.Buffer underneath does, which it cannot.
	_, _ = z.Write(data)
	_ = z.Close()
	zpool.Put(z)
	return b.Bytes()
}

// FlateStream returns a stream whose data is data compressed with FlateDecode.
func FlateStream(d Dict, data []byte) *Stream {
	if d == nil {
		d = Dict{}
	}
	d["Filter"] = Name("FlateDecode")
	return &Stream{Dict: d, Data: Deflate(data)}
}
