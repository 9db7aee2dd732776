package verify

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/chungthuc/chungthuc"
)

// Hostile input: the engine must answer (a report or a clean error), never panic, and
// stay within its limits.

func hostileOptions() Options {
	o := testOptions()
	o.MaxSize = 8 << 20
	o.MaxObjects = 100_000
	o.MaxStreamSize = 1 << 20
	return o
}

// allocDuring returns the bytes allocated while f runs.
func allocDuring(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

func classicWithXrefAt(body string, trailer string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offs := map[int]int{}
	maxN := 0
	for _, m := range regexp.MustCompile(`(?m)^(\d+) 0 obj`).FindAllStringSubmatchIndex(body, -1) {
		n, _ := strconv.Atoi(body[m[2]:m[3]])
		offs[n] = b.Len() + m[0]
		maxN = max(maxN, n)
	}
	b.WriteString(body)
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", maxN+1)
	for i := 1; i <= maxN; i++ {
		fmt.Fprintf(&b, "%010d 00000 n \n", offs[i])
	}
	b.WriteString("trailer\n" + trailer + "\nstartxref\n")
	fmt.Fprintf(&b, "%d\n%%%%EOF\n", x)
	return b.Bytes()
}

func TestHostileInputs(t *testing.T) {
	bomb := flate(make([]byte, 200<<20)) // 200 MiB of zeros in ~200 KiB
	cases := map[string][]byte{
		"xref_stream_bomb": func() []byte {
			var b bytes.Buffer
			b.WriteString("%PDF-1.7\n")
			x := b.Len()
			fmt.Fprintf(&b, "1 0 obj\n<< /Type /XRef /Size 2 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length %d >>\nstream\n", len(bomb))
			b.Write(bomb)
			fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", x)
			return b.Bytes()
		}(),
		"object_stream_bomb": func() []byte {
			w := basePDF(1, 0, false)
			pdf := w.modern()
			// Replace the object stream by a bomb in an update.
			// Objects 1-4 live in object stream 6; an update replaces it by a bomb.
			return appendUpdate(t, pdf, map[int][]byte{6: append([]byte(fmt.Sprintf("<< /Type /ObjStm /N 4 /First 20 /Filter /FlateDecode /Length %d >>\nstream\n", len(bomb))), append(bomb, []byte("\nendstream")...)...)},
				updateOpts{})
		}(),
		"deep_nesting": classicWithXrefAt("1 0 obj\n<< /Type /Catalog /AcroForm << /Fields "+strings.Repeat("[", 200000)+" >> >>\nendobj\n", "<< /Size 2 /Root 1 0 R >>"),
		"deep_dicts":   classicWithXrefAt("1 0 obj\n<< /Type /Catalog /X "+strings.Repeat("<< /A ", 200000)+"\nendobj\n", "<< /Size 2 /Root 1 0 R >>"),
		"deep_field_tree": func() []byte {
			var body strings.Builder
			body.WriteString("1 0 obj\n<< /Type /Catalog /AcroForm << /Fields [2 0 R] >> >>\nendobj\n")
			for i := 2; i < 3000; i++ {
				fmt.Fprintf(&body, "%d 0 obj\n<< /FT /Sig /Kids [%d 0 R] /V %d 0 R >>\nendobj\n", i, i+1, i)
			}
			return classicWithXrefAt(body.String(), "<< /Size 3000 /Root 1 0 R >>")
		}(),
		"xref_self_loop": func() []byte {
			var b bytes.Buffer
			b.WriteString("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n")
			x := b.Len()
			fmt.Fprintf(&b, "xref\n0 2\n0000000000 65535 f \n0000000009 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", x, x)
			return b.Bytes()
		}(),
		"xref_two_cycle": func() []byte {
			var b bytes.Buffer
			b.WriteString("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n")
			x1 := b.Len()
			x2 := x1 + 90
			s := fmt.Sprintf("xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 2 /Root 1 0 R /Prev %010d >>\n", x2)
			b.WriteString(s)
			for b.Len() < x2 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 2 /Root 1 0 R /Prev %010d >>\nstartxref\n%d\n%%%%EOF\n", x1, x2)
			return b.Bytes()
		}(),
		"huge_size":             classicWithXrefAt("1 0 obj << /Type /Catalog >> endobj\n", "<< /Size 1000000000 /Root 1 0 R >>"),
		"huge_subsection":       []byte("%PDF-1.7\nxref\n0 999999999\n0000000000 65535 f \ntrailer << /Size 2 /Root 1 0 R >>\nstartxref\n9\n%%EOF\n"),
		"length_self_reference": classicWithXrefAt("1 0 obj\n<< /Type /Catalog /Length 1 0 R /AcroForm 1 0 R >> stream\nabc\nendstream\nendobj\n", "<< /Size 2 /Root 1 0 R >>"),
		"reference_chain": func() []byte {
			var body strings.Builder
			body.WriteString("1 0 obj\n<< /Type /Catalog /AcroForm 2 0 R >>\nendobj\n")
			for i := 2; i < 2000; i++ {
				fmt.Fprintf(&body, "%d 0 obj\n%d 0 R\nendobj\n", i, i+1)
			}
			return classicWithXrefAt(body.String(), "<< /Size 2 /Root 1 0 R >>")
		}(),
		"truncated_signed_copy": func() []byte { p := signedCopy(t); return p[:len(p)/2] }(),
		"garbage_after_header":  append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("<<[(/"), 10000)...),
	}
	for name, pdf := range cases {
		t.Run(name, func(t *testing.T) {
			var rep *Report
			var err error
			alloc := allocDuring(func() {
				rep, err = VerifyBytes(context.Background(), pdf, hostileOptions())
			})
			if err != nil {
				if chungthuc.ErrorCode(err) == chungthuc.EINTERNAL {
					t.Fatalf("internal error (a panic?): %v", err)
				}
				return
			}
			if rep.Valid {
				t.Fatalf("hostile input is valid")
			}
			// Bounded memory: a few times the stream limit, never the bomb's 200 MiB.
			if alloc > 64<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			t.Logf("%s: %s (%d KiB allocated)", rep.Indication, rep.Checks[len(rep.Checks)-1].Detail, alloc>>10)
		})
	}
}

func FuzzVerify(f *testing.F) {
	p := getPKI()
	base := basePDF(1, 0, true)
	f.Add(base.classic())
	f.Add(base.modern())
	f.Add(certifiedCopy(f, base.classic()))
	f.Add(signPDF(f, base.modern(), signOpts{key: p.seal, xrefStream: true}))
	f.Add([]byte("%PDF-1.7\n1 0 obj << /Length 2 0 R >> stream\nx\nendstream endobj\nxref\n0 1\ntrailer << /Root 1 0 R /Prev 0 >>\nstartxref\n0\n%%EOF"))
	opt := hostileOptions()
	opt.MaxSize = 1 << 20
	opt.MaxStreamSize = 1 << 18
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := VerifyBytes(context.Background(), data, opt)
		if err != nil {
			if chungthuc.ErrorCode(err) == chungthuc.EINTERNAL {
				t.Fatalf("internal error: %v", err)
			}
			return
		}
		if rep.Valid {
			// Only an untouched, properly signed file can be valid; the fuzzer
			// cannot forge a signature, so a mutated seed must not pass unless it is
			// byte-identical to a seed signed file's signed revision.
			for _, s := range rep.Signatures {
				if s.Integrity != "intact" {
					t.Fatalf("valid with a broken signature")
				}
			}
		}
	})
}
