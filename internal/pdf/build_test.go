package pdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// Test files are written here, byte by byte, so that every structure the reader handles
// (and every way to break it) can be built.

// stm returns the body of a stream object with dictionary entries dict and data.
func stm(dict, data string) string {
	return fmt.Sprintf("<<%s /Length %d>>\nstream\n%s\nendstream", dict, len(data), data)
}

func deflate(b []byte) []byte {
	var out bytes.Buffer
	z := zlib.NewWriter(&out)
	z.Write(b)
	z.Close()
	return out.Bytes()
}

// classic writes a file with objects 1..len(objs) and a classic xref table; trailer is
// the inside of the trailer dictionary (/Size is added).
func classic(trailer string, objs ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, trailer, x)
	return b.Bytes()
}

// startxrefOf returns the offset named by the file's last startxref.
func startxrefOf(t testing.TB, file []byte) int64 {
	t.Helper()
	v, err := lastStartxref(file, int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// update appends an incremental update with a classic table: objs maps object numbers
// to bodies ("" frees the object); trailer is the inside of the new trailer (/Size and
// /Prev are added).
func update(t testing.TB, file []byte, size int, trailer string, objs map[int]string) []byte {
	t.Helper()
	prev := startxrefOf(t, file)
	var b bytes.Buffer
	b.Write(file)
	nums := make([]int, 0, len(objs))
	for n := range objs {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	offs := map[int]int{}
	for _, n := range nums {
		if objs[n] == "" {
			continue
		}
		offs[n] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, objs[n])
	}
	x := b.Len()
	b.WriteString("xref\n")
	for _, n := range nums {
		if objs[n] == "" {
			fmt.Fprintf(&b, "%d 1\n0000000000 00001 f \n", n)
		} else {
			fmt.Fprintf(&b, "%d 1\n%010d 00000 n \n", n, offs[n])
		}
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Prev %d %s >>\nstartxref\n%d\n%%%%EOF\n", size, prev, trailer, x)
	return b.Bytes()
}

// modern writes a file whose non-stream objects live in one object stream (object n+1,
// Flate-compressed) and whose cross-reference is a stream (object n+2) with a PNG Up
// predictor. Stream objects (bodies containing "stream\n") stay plain objects.
func modern(trailer string, objs ...string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	n := len(objs)
	stmNum, xrNum := n+1, n+2
	type ent struct {
		typ      byte
		off, idx int
	}
	ents := make([]ent, xrNum+1)
	var hdr, body []string
	pos := 0
	k := 0
	for i, o := range objs {
		if strings.Contains(o, "stream\n") {
			ents[i+1] = ent{1, b.Len(), 0}
			fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
			continue
		}
		hdr = append(hdr, fmt.Sprintf("%d %d", i+1, pos))
		body = append(body, o)
		pos += len(o) + 1
		ents[i+1] = ent{2, stmNum, k}
		k++
	}
	h := strings.Join(hdr, " ") + "\n"
	data := deflate([]byte(h + strings.Join(body, "\n") + "\n"))
	ents[stmNum] = ent{1, b.Len(), 0}
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\nendobj\n", stmNum, k, len(h), len(data), data)
	ents[xrNum] = ent{1, b.Len(), 0}
	// Rows of 1+4+2 bytes, PNG Up predictor (filter type 2 on every row).
	var rows []byte
	prev := make([]byte, 7)
	for i := 0; i <= xrNum; i++ {
		e := ents[i]
		row := []byte{e.typ, byte(e.off >> 24), byte(e.off >> 16), byte(e.off >> 8), byte(e.off), byte(e.idx >> 8), byte(e.idx)}
		if i == 0 {
			row = []byte{0, 0, 0, 0, 0, 0xff, 0xff}
		}
		rows = append(rows, 2)
		for j := range row {
			rows = append(rows, row[j]-prev[j])
		}
		prev = row
	}
	xd := deflate(rows)
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 7 >> %s /Length %d >>\nstream\n%s\nendstream\nendobj\n",
		xrNum, xrNum+1, trailer, len(xd), xd)
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", ents[xrNum].off)
	return b.Bytes()
}

// final opens file and reads its revision at the end of the file.
func final(t testing.TB, file []byte, lim Limits) *Revision {
	t.Helper()
	r, err := Open(file, lim).Revision(int64(len(file)))
	if err != nil {
		t.Fatalf("revision: %v", err)
	}
	return r
}

// onePage is a small document: catalog 1, pages 2, page 3, content 4, font 5.
func onePage() []string {
	return []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> >>",
		"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>",
		stm("", "BT /F1 12 Tf 72 720 Td (Hello) Tj ET"),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
}
