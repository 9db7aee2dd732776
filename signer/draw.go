package signer

import (
	"math"

	qrcode "github.com/skip2/go-qrcode"
)

// qr draws a QR code of url as filled squares with its lower-left corner at (x, y) and the
// given side (quiet zone not included; keep a white margin around it).
func (c *content) qr(url string, x, y, side float64) error {
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		return err
	}
	q.DisableBorder = true
	bm := q.Bitmap()
	n := float64(len(bm))
	m := side / n
	c.op("q 0 0 0 rg")
	for row, line := range bm {
		yy := y + side - float64(row+1)*m
		for col := 0; col < len(line); {
			if !line[col] {
				col++
				continue
			}
			start := col
			for col < len(line) && line[col] {
				col++
			}
			c.nums("re", x+float64(start)*m, yy, float64(col-start)*m, m)
		}
	}
	c.op("f Q")
	return nil
}

// circle appends a closed circular path of radius r centred on (cx, cy) (four Bézier arcs).
func (c *content) circle(cx, cy, r float64) *content {
	k := 0.5523 * r
	c.nums("m", cx+r, cy)
	c.nums("c", cx+r, cy+k, cx+k, cy+r, cx, cy+r)
	c.nums("c", cx-k, cy+r, cx-r, cy+k, cx-r, cy)
	c.nums("c", cx-r, cy-k, cx-k, cy-r, cx, cy-r)
	c.nums("c", cx+k, cy-r, cx+r, cy-k, cx+r, cy)
	return c
}

// arcText sets s along a circle of radius r around (cx, cy), centred on the top (top=true,
// letters upright outward) or the bottom (letters upright inward), at size.
func (c *content) arcText(fn string, e *embedding, size, cx, cy, r float64, s string, top bool) {
	total := e.width(s, size)
	offset := 0.0
	for _, ch := range s {
		cs := string(ch)
		w := e.width(cs, size)
		mid := offset + w/2 - total/2
		var phi, rho float64
		if top {
			phi = math.Pi/2 - mid/r
			rho = phi - math.Pi/2
		} else {
			phi = 3*math.Pi/2 + mid/r
			rho = phi + math.Pi/2
		}
		px, py := cx+r*math.Cos(phi), cy+r*math.Sin(phi)
		ox, oy := px-(w/2)*math.Cos(rho), py-(w/2)*math.Sin(rho)
		cos, sin := math.Cos(rho), math.Sin(rho)
		c.b = append(c.b, "BT /"...)
		c.b = append(c.b, fn...)
		c.b = append(c.b, ' ')
		c.nums("Tf", size)
		c.nums("Tm", cos, sin, -sin, cos, ox, oy)
		c.b = append(c.b, e.glyphs(cs).String()...)
		c.op(" Tj ET")
		offset += w
	}
}

// star fills a five-pointed star of outer radius r centred on (cx, cy).
func (c *content) star(cx, cy, r float64) {
	for i := 0; i < 10; i++ {
		rad := r
		if i%2 == 1 {
			rad = r * 0.382
		}
		a := math.Pi/2 + float64(i)*math.Pi/5
		op := "l"
		if i == 0 {
			op = "m"
		}
		c.nums(op, cx+rad*math.Cos(a), cy+rad*math.Sin(a))
	}
	c.op("h f")
}
