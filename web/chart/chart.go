// Package chart draws small charts as server-rendered SVG: stacked bars over
// time buckets and horizontal range bars. The server's CSP forbids inline
// styles and scripts, so every colour and size is an SVG attribute, geometry is
// computed here in Go, and hovering a bar shows its native <title> tooltip.
// Components take plain view models and never touch the database.
package chart

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Palette colours, matching the status badges in static/css/app.css.
const (
	ColorSucceeded = "#16794c"
	ColorFailed    = "#c9302c"
	ColorCancelled = "#a3aab6"
	ColorActive    = "#1d5fb8" // queued, running, waiting
	ColorAccent    = "#4f46e5"
	ColorAccentSub = "#c7c4f7"
	colorGrid      = "#e2e5ea"
	colorAxisText  = "#717a88"
)

// Series is one named, coloured series with one value per bucket.
type Series struct {
	Name   string
	Color  string
	Values []float64
}

// Bars is a bar chart over time buckets; with several series the bars stack
// in series order, bottom first.
type Bars struct {
	// ID names the chart for tests (data-testid) and links its legend.
	ID string
	// Title is the accessible name, e.g. "Runs per minute by status".
	Title string
	// Labels names each bucket in tooltips, e.g. "14:05".
	Labels []string
	// Ticks are the x-axis labels: bucket index → text. Sparse.
	Ticks  map[int]string
	Series []Series
	// Unit is what a value counts, for tooltips ("runs", "events").
	Unit string
}

// Chart area, in SVG user units (the SVG scales to its container's width).
const (
	barsWidth  = 720
	barsHeight = 200
	padLeft    = 44
	padRight   = 8
	padTop     = 10
	padBottom  = 22
)

type rect struct {
	X, Y, W, H float64
	Fill       string
	Title      string
}

type gridLine struct {
	Y     float64
	Label string
}

type tick struct {
	X     float64
	Label string
}

type barsLayout struct {
	ViewBox                  string
	Left, Right, Top, Bottom float64
	PlotWidth                float64
	Rects                    []rect
	Grid                     []gridLine
	Ticks                    []tick
	Total                    float64
	Summary                  string
}

// Empty reports whether every value is zero (or there are no buckets).
func (b Bars) Empty() bool {
	for _, s := range b.Series {
		for _, v := range s.Values {
			if v != 0 {
				return false
			}
		}
	}
	return true
}

func (b Bars) buckets() int {
	n := len(b.Labels)
	for _, s := range b.Series {
		n = max(n, len(s.Values))
	}
	return n
}

func (b Bars) layout() barsLayout {
	n := b.buckets()
	l := barsLayout{Left: padLeft, Right: barsWidth - padRight, Top: padTop, Bottom: barsHeight - padBottom}
	l.ViewBox = fmt.Sprintf("0 0 %d %d", barsWidth, barsHeight)
	l.PlotWidth = l.Right - l.Left
	totals := make([]float64, n)
	for _, s := range b.Series {
		for i, v := range s.Values {
			if i < n && v > 0 {
				totals[i] += v
			}
		}
	}
	peak := 0.0
	for _, t := range totals {
		peak = max(peak, t)
		l.Total += t
	}
	top := niceCeil(peak)
	plotH := l.Bottom - l.Top
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		l.Grid = append(l.Grid, gridLine{Y: round1(l.Bottom - plotH*float64(i)/4), Label: formatValue(v)})
	}
	if n == 0 {
		return l
	}
	slot := l.PlotWidth / float64(n)
	w := math.Max(slot*0.78, 1)
	for i := 0; i < n; i++ {
		x := l.Left + slot*float64(i) + (slot-w)/2
		y := l.Bottom
		for _, s := range b.Series {
			if i >= len(s.Values) || s.Values[i] <= 0 {
				continue
			}
			h := plotH * s.Values[i] / top
			y -= h
			l.Rects = append(l.Rects, rect{X: round1(x), Y: round1(y), W: round1(w), H: round1(math.Max(h, 0.5)), Fill: s.Color,
				Title: fmt.Sprintf("%s · %s: %s %s", b.label(i), s.Name, formatValue(s.Values[i]), unit(b.Unit, s.Values[i]))})
		}
	}
	for i, text := range b.Ticks {
		if i >= 0 && i < n {
			l.Ticks = append(l.Ticks, tick{X: round1(l.Left + slot*(float64(i)+0.5)), Label: text})
		}
	}
	sortTicks(l.Ticks)
	l.Summary = fmt.Sprintf("%s: %s %s in %d buckets, at most %s in one.", b.Title, formatValue(l.Total), b.Unit, n, formatValue(peak))
	return l
}

func (b Bars) label(i int) string {
	if i < len(b.Labels) {
		return b.Labels[i]
	}
	return strconv.Itoa(i + 1)
}

// unit makes "runs" read "run" for one.
func unit(u string, v float64) string {
	if v == 1 {
		return strings.TrimSuffix(u, "s")
	}
	return u
}

func sortTicks(ts []tick) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].X < ts[j-1].X; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// niceCeil returns the top of an axis with four whole, round grid steps
// (1, 2, 2.5, 3 or 5 times a power of ten) that reaches v.
func niceCeil(v float64) float64 {
	step := v / 4
	if step <= 1 {
		return 4
	}
	p := math.Pow(10, math.Floor(math.Log10(step)))
	for _, m := range []float64{1, 2, 2.5, 3, 5, 10} {
		if m*p >= step && (m*p == math.Trunc(m*p)) {
			return 4 * m * p
		}
	}
	return 40 * p
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// formatValue prints counts compactly: 12, 1.5k, 2.3M.
func formatValue(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(math.Round(v/1e5)/10, 'f', -1, 64) + "M"
	case v >= 1e4:
		return strconv.FormatFloat(math.Round(v/100)/10, 'f', -1, 64) + "k"
	case v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	default:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
}

// num formats SVG coordinates.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Range is one row of a RangeBars chart: a low and a high value drawn as two
// overlaid bars (for example p50 and p95 durations).
type Range struct {
	Label     string
	Low, High float64
	// LowText and HighText are the values as shown (e.g. "120 ms").
	LowText, HighText string
	Note              string // e.g. "42 attempts"
}

// RangeBars is a horizontal bar chart with one Range per row.
type RangeBars struct {
	ID                string
	Title             string
	LowName, HighName string // legend: "p50", "p95"
	Rows              []Range
}

const (
	rangeWidth     = 720
	rangeRowHeight = 28
	rangeLabelW    = 200
	rangeValueW    = 150
)

type rangeRow struct {
	Y, TextY         float64
	LowW, HighW      float64
	Label, ValueText string
	Title            string
}

type rangeLayout struct {
	ViewBox    string
	BarX       float64
	BarMax     float64
	ValueX     float64
	Rows       []rangeRow
	GridX      []float64
	PlotBottom float64
}

func (r RangeBars) layout() rangeLayout {
	peak := 0.0
	for _, row := range r.Rows {
		peak = max(peak, row.High, row.Low)
	}
	l := rangeLayout{BarX: rangeLabelW, BarMax: rangeWidth - rangeLabelW - rangeValueW, ValueX: rangeWidth - rangeValueW + 10}
	h := float64(len(r.Rows))*rangeRowHeight + 8
	l.ViewBox = fmt.Sprintf("0 0 %d %s", rangeWidth, num(h))
	l.PlotBottom = h - 4
	for i := 1; i <= 4; i++ {
		l.GridX = append(l.GridX, round1(l.BarX+l.BarMax*float64(i)/4))
	}
	for i, row := range r.Rows {
		y := 4 + float64(i)*rangeRowHeight
		rr := rangeRow{Y: y + 6, TextY: y + 18, Label: row.Label,
			ValueText: row.LowText + " / " + row.HighText,
			Title:     fmt.Sprintf("%s: %s %s, %s %s", row.Label, r.LowName, row.LowText, r.HighName, row.HighText)}
		if row.Note != "" {
			rr.Title += " (" + row.Note + ")"
		}
		if peak > 0 {
			rr.LowW = round1(math.Max(l.BarMax*row.Low/peak, 1))
			rr.HighW = round1(math.Max(l.BarMax*row.High/peak, 1))
		}
		l.Rows = append(l.Rows, rr)
	}
	return l
}
