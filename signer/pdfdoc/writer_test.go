package pdfdoc

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func onePage(t *testing.T) ([]byte, Revision, Ref) {
	w := New("1.7", 1024)
	pages := w.Alloc()
	page := w.Add(Dict{"Type": Name("Page"), "Parent": pages, "MediaBox": Array{Int(0), Int(0), Real(595.28), Real(841.89)},
		"Contents": w.Add(FlateStream(nil, []byte("0 0 1 rg 100 100 200 200 re f")))})
	w.Put(pages, Dict{"Type": Name("Pages"), "Kids": Array{page}, "Count": Int(1)})
	root := w.Add(Dict{"Type": Name("Catalog"), "Pages": pages})
	info := w.Add(Dict{"Title": Text("Bản sao — Lê Thị Ĩ (Phó Chủ tịch) \\")})
	b, rev, err := w.Finish(root, info)
	if err != nil {
		t.Fatal(err)
	}
	return b, rev, page
}

func qpdfCheck(t *testing.T, b []byte) string {
	t.Helper()
	q, err := exec.LookPath("qpdf")
	if err != nil {
		t.Skip("qpdf not installed")
	}
	p := filepath.Join(t.TempDir(), "x.pdf")
	os.WriteFile(p, b, 0o644)
	out, err := exec.Command(q, "--check", p).CombinedOutput()
	if err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	return string(out)
}

func TestNewFileIsValid(t *testing.T) {
	b, rev, _ := onePage(t)
	if rev.Length != int64(len(b)) || !bytes.HasSuffix(b, []byte("%%EOF\n")) {
		t.Fatalf("bad revision %+v", rev)
	}
	out := qpdfCheck(t, b)
	if !bytes.Contains([]byte(out), []byte("No syntax or stream encoding errors")) {
		t.Fatalf("qpdf: %s", out)
	}
}

func TestIncrementalUpdate(t *testing.T) {
	b, rev, page := onePage(t)
	w, err := UpdateInPlace(bytes.Clone(b), rev)
	if err != nil {
		t.Fatal(err)
	}
	annot := w.Add(Dict{"Type": Name("Annot"), "Subtype": Name("Square"), "Rect": Array{Int(0), Int(0), Int(10), Int(10)}})
	w.Put(page, Dict{"Type": Name("Page"), "Parent": Ref{Num: 1}, "MediaBox": Array{Int(0), Int(0), Int(100), Int(100)}, "Annots": Array{annot}})
	b2, rev2, err := w.Finish(rev.Root, rev.Info)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b2, b) {
		t.Fatal("update rewrote earlier bytes")
	}
	if rev2.ID[0].String() != rev.ID[0].String() || rev2.Size != rev.Size+1 {
		t.Fatalf("rev2 = %+v", rev2)
	}
	qpdfCheck(t, b2)
	if _, err := UpdateInPlace(b2, rev); err == nil {
		t.Fatal("update against a stale revision accepted")
	}
}

func TestTextStrings(t *testing.T) {
	for in, want := range map[Text]string{
		"abc (x) \\":     `(abc \(x\) \\)`,
		"Lê Thị Ĩ":       "<FEFF004C00EA0020005400681ECB00200128>",
		"Trần Văn Nghĩa": "<FEFF005400721EA7006E002000560103006E0020004E0067006801290061>",
	} {
		if got := string(Bytes(in)); got != want {
			t.Errorf("%q → %s, want %s", in, got, want)
		}
	}
}
