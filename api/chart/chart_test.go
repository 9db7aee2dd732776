package chart

import (
	"encoding/xml"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func sample() Bars {
	return Bars{Title: "Tỷ lệ hài lòng theo đơn vị", Unit: "%", Max: 100, Bars: []Bar{
		{"Phường Hòa Bình", 96.45}, {"Xã Tân Phú <script>", 50}, {"Phường Bình Đa", 0},
	}}
}

func TestSVGWellFormedAndAccessible(t *testing.T) {
	svg := string(sample().SVG())
	// Well-formed XML, so the browser's HTML parser and any XML tool read the same tree.
	var root struct {
		XMLName xml.Name
		Role    string `xml:"role,attr"`
		Title   string `xml:"title"`
		Desc    string `xml:"desc"`
		Rects   []struct {
			Width string `xml:"width,attr"`
		} `xml:"rect"`
	}
	if err := xml.Unmarshal([]byte(svg), &root); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, svg)
	}
	if root.XMLName.Local != "svg" || root.Role != "img" || root.Title != "Tỷ lệ hài lòng theo đơn vị" {
		t.Errorf("svg %q role %q title %q", root.XMLName.Local, root.Role, root.Title)
	}
	if want := "Phường Hòa Bình: 96,45%; Xã Tân Phú <script>: 50%; Phường Bình Đa: 0%"; root.Desc != want {
		t.Errorf("desc %q, want %q", root.Desc, want)
	}
	if strings.Contains(svg, "<script>") {
		t.Error("label not escaped")
	}
	// Bars are proportional to the scale (100%): 96.45% and 50% of the bar span, 0 for 0.
	span := float64(width - labelW - valueW)
	for i, want := range []float64{96.45, 50, 0} {
		w, _ := strconv.ParseFloat(root.Rects[i].Width, 64)
		if d := w - want/100*span; d < -1 || d > 1 {
			t.Errorf("bar %d width %v, want %v", i, w, want/100*span)
		}
	}
	if !regexp.MustCompile(`aria-labelledby="c-t-l-h-i-l-ng-theo-n-v-t c-t-l-h-i-l-ng-theo-n-v-d"`).MatchString(svg) {
		t.Errorf("aria-labelledby does not name title and desc: %s", svg[:200])
	}
}

func TestEmptyAndOddValues(t *testing.T) {
	svg := string(Bars{Title: "Trống"}.SVG())
	if !strings.Contains(svg, "Không có số liệu") {
		t.Error("empty chart says nothing")
	}
	if svg := string(Bars{Title: "Empty", Empty: "No <data>"}.SVG()); !strings.Contains(svg, "No &lt;data&gt;") || strings.Contains(svg, "Không có") {
		t.Error("an empty chart does not say its own (escaped) words")
	}
	svg = string(Bars{Title: "x", Bars: []Bar{{"âm", -5}, {"a", 10}}}.SVG())
	if strings.Contains(svg, `width="-`) {
		t.Error("negative bar width")
	}
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Error(err)
	}
}

func TestTable(t *testing.T) {
	tab := string(sample().Table("Đơn vị", "Tỷ lệ"))
	for _, want := range []string{"<caption>Tỷ lệ hài lòng theo đơn vị</caption>", `<th scope="row">Phường Hòa Bình</th><td>96,45%</td>`, "Xã Tân Phú &lt;script&gt;"} {
		if !strings.Contains(tab, want) {
			t.Errorf("table lacks %q:\n%s", want, tab)
		}
	}
	if err := xml.Unmarshal([]byte(tab), new(struct{})); err != nil {
		t.Error(err)
	}
	// For looking at it: CHART_HTML=/tmp/x.html go test -run TestTable ./api/chart
	if p := os.Getenv("CHART_HTML"); p != "" {
		page := `<!doctype html><html lang="vi"><meta charset="utf-8"><title>chart</title><body style="font-family:sans-serif">` +
			string(sample().SVG()) + tab + `</body></html>`
		if err := os.WriteFile(p, []byte(page), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
