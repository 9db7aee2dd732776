package api

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/chungthuc/chungthuc"
)

// TestMessageCatalogue: both languages have the same keys; every key a template reads
// exists (a missing one would render as an empty string, silently); every status the
// templates look up by value has a label; every Vietnamese text is NFC.
func TestMessageCatalogue(t *testing.T) {
	vi, en := messages["vi"], messages["en"]
	for k := range vi {
		if _, ok := en[k]; !ok {
			t.Errorf("English lacks %q", k)
		}
	}
	for k := range en {
		if _, ok := vi[k]; !ok {
			t.Errorf("Vietnamese lacks %q", k)
		}
	}
	for lang, m := range messages {
		for k, v := range m {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s %q is empty", lang, k)
			}
			if !norm.NFC.IsNormalString(v) {
				t.Errorf("%s %q is not NFC", lang, k)
			}
		}
	}
	used := regexp.MustCompile(`\$?\.T\.([A-Za-z_][A-Za-z0-9_.]*)`)
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(path)
		if err != nil {
			return err
		}
		if !norm.NFC.IsNormal(b) {
			t.Errorf("%s is not NFC", path)
		}
		for _, m := range used.FindAllSubmatch(b, -1) {
			if _, ok := vi[string(m[1])]; !ok {
				t.Errorf("%s reads .T.%s, which is not in the catalogue", path, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []chungthuc.Status{chungthuc.StatusPending, chungthuc.StatusIssued, chungthuc.StatusVoid, chungthuc.StatusRevoked} {
		if _, ok := vi[string(st)]; !ok {
			t.Errorf("no label for status %q", st)
		}
	}
}
