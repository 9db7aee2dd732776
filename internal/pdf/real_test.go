package pdf

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readAll reads the final revision of file (the revision at its last %%EOF) with its pages
// and the operators of every page's content.
func readAll(file []byte) (*Revision, []Page, error) {
	ends := RevisionEnds(file)
	end := int64(len(file))
	if len(ends) > 0 {
		end = ends[len(ends)-1]
	}
	r, err := Open(file, Limits{}).Revision(end)
	if err != nil {
		return nil, nil, err
	}
	pages, err := r.Pages(0)
	if err != nil {
		return nil, nil, err
	}
	for _, p := range pages {
		c, err := r.PageContent(p)
		if err != nil {
			return nil, nil, err
		}
		l := NewContentLexer(c)
		for {
			if _, err := l.NextOp(); err == io.EOF {
				break
			} else if err != nil {
				return nil, nil, err
			}
		}
	}
	return r, pages, nil
}

// TestRealFiles reads files other producers wrote (testdata/real/README). Two are
// refused on purpose: the reader never repairs what viewers repair.
func TestRealFiles(t *testing.T) {
	refused := map[string]string{
		"pdfcpu-i277.pdf":            "bad xref entry", // free entry with generation 65536
		"pdfcpu-withOffsetStart.pdf": "xref",           // bytes before %PDF shift every offset
	}
	names, _ := filepath.Glob("testdata/real/*.pdf")
	if len(names) < 10 {
		t.Fatalf("%d files", len(names))
	}
	for _, n := range names {
		file, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		base := filepath.Base(n)
		r, pages, err := readAll(file)
		if want, ok := refused[base]; ok {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want an error about %q", base, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", base, err)
			continue
		}
		if len(pages) == 0 {
			t.Errorf("%s: no pages", base)
		}
		// Every earlier revision is readable too.
		for _, end := range RevisionEnds(file) {
			if _, err := r.File().Revision(end); err != nil {
				t.Errorf("%s: revision at %d: %v", base, end, err)
			}
		}
	}
	// Our own copy: four revisions (two signatures, the DSS, the document time-stamp).
	file, _ := os.ReadFile("testdata/real/chungthuc-certified-lta.pdf")
	r, _, err := readAll(file)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(RevisionEnds(file)); n < 4 || r.Root().Get("DSS") == nil {
		t.Fatalf("%d revisions", n)
	}
}
