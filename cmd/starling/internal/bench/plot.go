package bench

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"time"
)

// Plot geometry, in SVG user units.
const (
	plotW, plotH         = 760, 380
	marginL, marginR     = 70, 20
	marginT, marginB     = 56, 50
	innerW, innerH       = plotW - marginL - marginR, plotH - marginT - marginB
	plotBins             = 48
	percentileLabelSpace = 14
)

// WriteSVG draws the latency histogram as a standalone SVG image: bars on a
// logarithmic time axis, with the p50, p90 and p99 marked.
func WriteSVG(w io.Writer, h *Histogram, title string) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", plotW, plotH, plotW, plotH)
	p(`<rect width="100%%" height="100%%" fill="#fff"/>` + "\n")
	p(`<text x="%d" y="22" font-size="14" font-weight="bold">%s</text>`+"\n", marginL, html.EscapeString(title))
	bins := h.Bins(plotBins)
	if len(bins) == 0 {
		p(`<text x="%d" y="%d">no samples</text>`+"\n", plotW/2-30, plotH/2)
		p("</svg>\n")
		return bw.Flush()
	}
	lo, hi := math.Log(float64(bins[0].Lo)), math.Log(float64(bins[len(bins)-1].Hi))
	x := func(d time.Duration) float64 {
		return marginL + (math.Log(float64(max(d, 1)))-lo)/(hi-lo)*innerW
	}
	var top int64
	for _, b := range bins {
		top = max(top, b.Count)
	}
	y := func(c int64) float64 { return marginT + innerH - float64(c)/float64(top)*innerH }

	drawAxes(p, lo, hi, top, x, y)
	for _, b := range bins {
		if b.Count == 0 {
			continue
		}
		x0, x1 := x(b.Lo), x(b.Hi)
		p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#4a7bd0"><title>%v–%v: %d</title></rect>`+"\n",
			x0, y(b.Count), math.Max(x1-x0-1, 1), marginT+innerH-y(b.Count), b.Lo, b.Hi, b.Count)
	}
	for i, q := range []struct {
		name string
		v    float64
	}{{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}} {
		d := h.Quantile(q.v)
		xd := math.Min(math.Max(x(d), marginL), marginL+innerW)
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#c23b3b" stroke-dasharray="4 3"/>`+"\n", xd, marginT, xd, marginT+innerH)
		p(`<text x="%.1f" y="%d" fill="#c23b3b" text-anchor="end" stroke="#fff" stroke-width="3" paint-order="stroke">%s</text>`+"\n",
			xd-3, marginT+12+i*percentileLabelSpace, q.name)
	}
	p(`<text x="%d" y="42" fill="#444">p50 %v · p90 %v · p99 %v · max %v · %d samples</text>`+"\n",
		marginL, round(h.Quantile(0.5)), round(h.Quantile(0.9)), round(h.Quantile(0.99)), round(h.Max()), h.Count())
	p("</svg>\n")
	return bw.Flush()
}

// drawAxes draws both axes with ticks at 1, 2 and 5 times powers of ten on
// the time axis and at a few round counts on the count axis.
func drawAxes(p func(string, ...any), lo, hi float64, top int64, x func(time.Duration) float64, y func(int64) float64) {
	p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", marginL, marginT+innerH, marginL+innerW, marginT+innerH)
	p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", marginL, marginT, marginL, marginT+innerH)
	for e := math.Floor(lo / math.Ln10); e <= math.Ceil(hi/math.Ln10); e++ {
		for _, m := range []float64{1, 2, 5} {
			d := time.Duration(m * math.Pow(10, e))
			if v := math.Log(float64(d)); d <= 0 || v < lo || v > hi {
				continue
			}
			xd := x(d)
			p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`+"\n", xd, marginT+innerH, xd, marginT+innerH+5)
			p(`<text x="%.1f" y="%d" text-anchor="middle">%v</text>`+"\n", xd, marginT+innerH+18, d)
		}
	}
	p(`<text x="%d" y="%d" text-anchor="middle">round-trip latency (log scale)</text>`+"\n", marginL+innerW/2, plotH-10)
	step := niceStep(top)
	for c := int64(0); c <= top; c += step {
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", marginL, y(c), marginL+innerW, y(c))
		p(`<text x="%d" y="%.1f" text-anchor="end">%d</text>`+"\n", marginL-6, y(c)+4, c)
	}
	p(`<text transform="translate(16 %d) rotate(-90)" text-anchor="middle">messages</text>`+"\n", marginT+innerH/2)
}

// niceStep returns a round step giving about five ticks up to top.
func niceStep(top int64) int64 {
	raw := math.Max(float64(top)/5, 1)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			return int64(m * mag)
		}
	}
	return int64(10 * mag)
}

// round shortens a duration to three significant digits for labels.
func round(d time.Duration) time.Duration {
	for unit := time.Duration(1); unit < time.Hour; unit *= 10 {
		if d < 1000*unit {
			return d.Round(unit)
		}
	}
	return d
}
