package ttf

import (
	"bytes"
	"compress/flate"
	"testing"

	"github.com/go-fonts/liberation/liberationserifregular"
)

// BenchmarkSubset subsets Liberation Serif Regular to the certification stamp's repertoire
// (Vietnamese alphabet in both cases, digits, punctuation: about 230 glyphs with the
// composite components they pull in) and to about 150 glyphs (lowercase with tones,
// capitals without, digits, punctuation).
func BenchmarkSubset(b *testing.B) {
	reg, _ := fonts(b)
	for _, c := range []struct{ name, text string }{
		{"stamp", vietText},
		{"lower+caps+digits+punct", vietLower + "ABCDĐEFGHIJKLMNOPQRSTUVWXYZÂĂÊÔƠƯ0123456789 .,:;!?-–()/\\\"'“”%"},
	} {
		gids := reg.GIDs(c.text)
		b.Run(c.name, func(b *testing.B) {
			var out []byte
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if out, err = reg.Subset(gids); err != nil {
					b.Fatal(err)
				}
			}
			var z bytes.Buffer
			w, _ := flate.NewWriter(&z, flate.DefaultCompression)
			w.Write(out)
			w.Close()
			b.ReportMetric(float64(len(gids)), "glyphs")
			b.ReportMetric(float64(len(out)), "subset-bytes")
			b.ReportMetric(float64(z.Len()), "flate-bytes")
			b.ReportMetric(float64(len(liberationserifregular.TTF)), "font-bytes")
		})
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(liberationserifregular.TTF); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTextWidth(b *testing.B) {
	reg, _ := fonts(b)
	s := "Chứng thực bản sao đúng với bản chính. Số chứng thực: 123, quyển số 01/2025-SCT/BS"
	b.ReportAllocs()
	for b.Loop() {
		_ = reg.TextWidth(s, 12)
	}
}

func BenchmarkGIDs(b *testing.B) {
	reg, _ := fonts(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = reg.GIDs(vietText)
	}
}
