// Package chart draws the statistics pages' charts on the server as inline SVG — no script,
// no CDN — accessible: the <svg> has role="img", a <title> and a <desc> naming every value,
// and the page shows the same figures in a table beside it (Table).
package chart

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// Bar is one labelled value.
type Bar struct {
	Label string
	Value float64
}

// Bars is a horizontal bar chart.
type Bars struct {
	Title string // the chart's accessible name, shown above it
	Unit  string // appended to values ("%", " bản"); may be ""
	Bars  []Bar
	Max   float64 // scale; 0: the largest value (100 for percentages is a good choice)
	// Empty is what a chart without bars says; "" means "Không có số liệu".
	Empty string
}

const (
	width    = 640
	labelW   = 220
	valueW   = 90
	rowH     = 28
	barH     = 18
	topPad   = 8
	fontSize = 13
)

func format(v float64, unit string) string {
	s := fmt.Sprintf("%.2f", v)
	if v == math.Trunc(v) {
		s = fmt.Sprintf("%.0f", v)
	}
	s = strings.Replace(s, ".", ",", 1) // Vietnamese decimal comma
	return s + unit
}

// SVG returns the chart. Labels are escaped; values below zero, NaN or infinite are drawn as
// zero-length bars and named as they are in the description.
func (c Bars) SVG() template.HTML {
	max := c.Max
	for _, b := range c.Bars {
		if b.Value > max {
			max = b.Value
		}
	}
	h := topPad*2 + rowH*len(c.Bars)
	if len(c.Bars) == 0 {
		h = rowH
	}
	var desc []string
	for _, b := range c.Bars {
		desc = append(desc, b.Label+": "+format(b.Value, c.Unit))
	}
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 %d %d" width="100%%" style="max-width:%dpx" aria-labelledby="%[4]s-t %[4]s-d">`, width, h, width, id(c.Title))
	fmt.Fprintf(&s, `<title id="%s-t">%s</title><desc id="%[1]s-d">%[3]s</desc>`, id(c.Title), template.HTMLEscapeString(c.Title), template.HTMLEscapeString(strings.Join(desc, "; ")))
	if len(c.Bars) == 0 {
		empty := c.Empty
		if empty == "" {
			empty = "Không có số liệu"
		}
		fmt.Fprintf(&s, `<text x="0" y="%d" font-size="%d" fill="#333">%s</text>`, rowH-10, fontSize, template.HTMLEscapeString(empty))
	}
	span := float64(width - labelW - valueW)
	for i, b := range c.Bars {
		y := topPad + i*rowH
		w := 0.0
		if max > 0 && b.Value > 0 && !math.IsInf(b.Value, 0) {
			w = math.Round(b.Value / max * span)
		}
		fmt.Fprintf(&s, `<text x="%d" y="%d" font-size="%d" text-anchor="end" fill="#1a1a1a">%s</text>`, labelW-8, y+barH-4, fontSize, template.HTMLEscapeString(truncate(b.Label, 32)))
		fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%.0f" height="%d" fill="#1f5fa8"/>`, labelW, y, w, barH)
		fmt.Fprintf(&s, `<text x="%.0f" y="%d" font-size="%d" fill="#1a1a1a">%s</text>`, float64(labelW)+w+6, y+barH-4, fontSize, template.HTMLEscapeString(format(b.Value, c.Unit)))
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String()) // every text above is escaped
}

// Table returns the chart's figures as an HTML table (the accessible and printable twin
// of the SVG), with header names for the label and value columns.
func (c Bars) Table(labelHeader, valueHeader string) template.HTML {
	var s strings.Builder
	fmt.Fprintf(&s, `<table class="chart-data"><caption>%s</caption><thead><tr><th scope="col">%s</th><th scope="col">%s</th></tr></thead><tbody>`,
		template.HTMLEscapeString(c.Title), template.HTMLEscapeString(labelHeader), template.HTMLEscapeString(valueHeader))
	for _, b := range c.Bars {
		fmt.Fprintf(&s, `<tr><th scope="row">%s</th><td>%s</td></tr>`, template.HTMLEscapeString(b.Label), template.HTMLEscapeString(format(b.Value, c.Unit)))
	}
	s.WriteString(`</tbody></table>`)
	return template.HTML(s.String()) // every text above is escaped
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// id makes an element id from a title: ASCII letters and digits, "c-" prefixed.
func id(title string) string {
	var b strings.Builder
	b.WriteString("c-")
	for _, r := range title {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		default:
			if !strings.HasSuffix(b.String(), "-") {
				b.WriteByte('-')
			}
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
