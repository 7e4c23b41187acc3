package loadgen

import (
	"fmt"
	"html"
	"io"
	"math"
)

// Bar is one group in a bar chart: a label and one value per series.
type Bar struct {
	Label  string
	Values []float64
}

// WriteSVG draws a grouped horizontal bar chart: one group per bar, one
// coloured bar per series, each labelled with its value.
func WriteSVG(w io.Writer, title string, series []string, unit string, bars []Bar) error {
	colors := []string{"#2563eb", "#9ca3af", "#f59e0b", "#10b981"}
	const left, width, barH, gap = 230, 520, 14, 12
	maxV := 0.0
	for _, b := range bars {
		for _, v := range b.Values {
			maxV = math.Max(maxV, v)
		}
	}
	if maxV == 0 {
		maxV = 1
	}
	groupH := len(series)*barH + gap
	height := 60 + len(bars)*groupH + 20
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", left+width+120, height)
	p(`<rect width="100%%" height="100%%" fill="white"/><text x="10" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", html.EscapeString(title))
	for i, s := range series {
		p(`<rect x="%d" y="32" width="10" height="10" fill="%s"/><text x="%d" y="41">%s</text>`+"\n", left+i*150, colors[i%len(colors)], left+i*150+14, html.EscapeString(s))
	}
	y := 60
	for _, b := range bars {
		p(`<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+len(series)*barH/2+4, html.EscapeString(b.Label))
		for i, v := range b.Values {
			wd := int(float64(width) * v / maxV)
			p(`<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/><text x="%d" y="%d">%.0f %s</text>`+"\n",
				left, y, wd, barH-2, colors[i%len(colors)], left+wd+4, y+barH-4, v, html.EscapeString(unit))
			y += barH
		}
		y += gap
	}
	_, err := io.WriteString(w, "</svg>\n")
	return err
}
