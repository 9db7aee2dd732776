package ttf

import (
	"testing"

	"github.com/go-fonts/liberation/liberationserifregular"
)

// FuzzParse feeds arbitrary bytes to Parse. Whatever parses must survive every method and
// subset into a font that parses again with the same glyph count.
//
//	go test -fuzz FuzzParse -fuzztime 30s ./signer/ttf
func FuzzParse(f *testing.F) {
	reg, err := Parse(liberationserifregular.TTF)
	if err != nil {
		f.Fatal(err)
	}
	small, err := reg.Subset(reg.GIDs("Aaệ"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(small)
	f.Add(synth{glyphs: [][]byte{simpleGlyph(), simpleGlyph(), compositeGlyph(1), compositeGlyph(2, 1)}}.build())
	f.Add(synth{glyphs: [][]byte{{}, compositeGlyph(2), compositeGlyph(1)}}.build())
	f.Add(small[:len(small)/2])
	f.Add([]byte("OTTO"))
	f.Fuzz(func(t *testing.T, data []byte) {
		exercise(t, data)
	})
}
