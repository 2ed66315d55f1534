package web

import (
	"bytes"
	"fmt"
	"html/template"
	"regexp"
	"strings"

	"github.com/go-analyze/charts"
)

// Charts are drawn on the server as SVG by github.com/go-analyze/charts (a
// maintained Go library, SVG output without a browser) and inlined into the
// page, so they need no script and print. Two things are added around the
// library's drawing:
//
//   - accessibility: the <svg> gets role="img", a <title> and a <desc>
//     that say what it shows, and the template prints the same numbers as a
//     table under it;
//   - the site's Content Security Policy (style-src 'self') forbids inline
//     style attributes, which the library writes on every shape; they are
//     rewritten to the equivalent SVG presentation attributes (fill=,
//     stroke=, font-size=…), which the policy allows.

// chartView is one chart for a template: the SVG, and the numbers behind it
// as a table.
type chartView struct {
	ID      string // unique on the page; prefixes the title and desc IDs
	Title   string
	Desc    string
	SVG     template.HTML
	Columns []string
	Rows    [][]string
	Empty   bool // nothing to draw; the template says so instead
}

// chartSeries is one line of a time chart.
type chartSeries struct {
	Name   string
	Values []float64
}

const (
	chartWidth  = 720
	chartHeight = 300
)

// lineChart draws series over labels (the periods).
func lineChart(id, title, desc string, labels []string, series []chartSeries, format func(float64) string) (chartView, error) {
	cv := chartView{ID: id, Title: title, Desc: desc, Columns: []string{"Period"}}
	for _, s := range series {
		cv.Columns = append(cv.Columns, s.Name)
	}
	for i, l := range labels {
		row := []string{l}
		for _, s := range series {
			row = append(row, format(s.Values[i]))
		}
		cv.Rows = append(cv.Rows, row)
	}
	if len(labels) == 0 {
		cv.Empty = true
		return cv, nil
	}
	values := make([][]float64, len(series))
	names := make([]string, len(series))
	for i, s := range series {
		values[i], names[i] = s.Values, s.Name
	}
	opt := charts.NewLineChartOptionWithData(values)
	opt.Theme = chartTheme()
	opt.XAxis.Labels = labels
	opt.XAxis.LabelCount = 4 // a 48-hour axis with every label is unreadable
	opt.Legend = charts.LegendOption{SeriesNames: names}
	opt.ValueFormatter = format
	for i := range opt.YAxis {
		opt.YAxis[i].ValueFormatter = format
		opt.YAxis[i].Min = charts.Ptr(0.0)
		opt.YAxis[i].LabelCount = 6
	}
	p := charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputSVG, Width: chartWidth, Height: chartHeight})
	if err := p.LineChart(opt); err != nil {
		return cv, fmt.Errorf("chart %s: %w", id, err)
	}
	return finishChart(cv, p)
}

// barChart draws one value per category as horizontal bars, largest first
// as given.
func barChart(id, title, desc, column string, categories []string, values []float64, format func(float64) string) (chartView, error) {
	cv := chartView{ID: id, Title: title, Desc: desc, Columns: []string{column, title}}
	for i, c := range categories {
		cv.Rows = append(cv.Rows, []string{c, format(values[i])})
	}
	if len(categories) == 0 {
		cv.Empty = true
		return cv, nil
	}
	// The library draws the first category at the bottom; reverse so the
	// largest is on top, as in the table.
	cats := make([]string, len(categories))
	vals := make([]float64, len(values))
	for i := range categories {
		cats[len(cats)-1-i], vals[len(vals)-1-i] = truncateLabel(categories[i]), values[i]
	}
	opt := charts.NewBarChartOptionWithData([][]float64{vals})
	opt.Horizontal = true
	opt.Theme = chartTheme()
	opt.CategoryAxis.Labels = cats
	// Labels are measured in the library's Roboto but drawn in the
	// browser's sans-serif, which may be wider: leave room on the left.
	opt.Padding = charts.NewBox(48, 20, 28, 20)
	opt.ValueFormatter = format
	opt.SeriesLabelPosition = "right"
	for i := range opt.ValueAxis {
		opt.ValueAxis[i].ValueFormatter = format
		opt.ValueAxis[i].Min = charts.Ptr(0.0)
		opt.ValueAxis[i].LabelCount = 5
	}
	height := max(chartHeight/2, 60+36*len(cats))
	p := charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputSVG, Width: chartWidth, Height: height})
	if err := p.BarChart(opt); err != nil {
		return cv, fmt.Errorf("chart %s: %w", id, err)
	}
	return finishChart(cv, p)
}

// chartTheme is the library's light theme with the series colours darkened
// enough to stand out against white (3:1 for graphics, WCAG 1.4.11).
func chartTheme() charts.ColorPalette {
	return charts.GetTheme(charts.ThemeLight).WithSeriesColors([]charts.Color{
		charts.ColorFromHex("#2a55e0"), // the site's accent
		charts.ColorFromHex("#a65c00"),
		charts.ColorFromHex("#1b7a43"),
		charts.ColorFromHex("#8a3ab9"),
	})
}

func finishChart(cv chartView, p *charts.Painter) (chartView, error) {
	raw, err := p.Bytes()
	if err != nil {
		return cv, fmt.Errorf("chart %s: %w", cv.ID, err)
	}
	svg, err := accessibleSVG(raw, cv.ID, cv.Title, cv.Desc)
	if err != nil {
		return cv, fmt.Errorf("chart %s: %w", cv.ID, err)
	}
	cv.SVG = template.HTML(svg) //nolint:gosec // the library escapes its text; title and desc are escaped here
	return cv, nil
}

var (
	svgOpenTag = regexp.MustCompile(`^<svg\b[^>]*>`)
	// styleAttr matches the library's style attributes; text content never
	// matches, since the library escapes '"' in text.
	styleAttr = regexp.MustCompile(`style="([^"]*)"`)
)

// accessibleSVG names the chart for assistive technology and turns style
// attributes into presentation attributes (see the top of this file).
func accessibleSVG(raw []byte, id, title, desc string) (string, error) {
	open := svgOpenTag.Find(raw)
	if open == nil {
		return "", fmt.Errorf("the chart library wrote no <svg> element")
	}
	rest := raw[len(open):]
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" %s role="img" aria-labelledby="%s-title %s-desc">`,
		viewBoxOf(open), esc(id), esc(id))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(id), esc(title), esc(id), esc(desc))
	b.Write(styleAttr.ReplaceAllFunc(rest, styleToAttributes))
	return b.String(), nil
}

var viewBoxAttr = regexp.MustCompile(`viewBox="[0-9. ]+"`)

func viewBoxOf(open []byte) string {
	return string(viewBoxAttr.Find(open))
}

// styleToAttributes turns style="stroke:none;fill:white" into
// stroke="none" fill="white". Property names are the library's own (SVG
// presentation attributes all); values keep their text, quoted for an
// attribute.
func styleToAttributes(m []byte) []byte {
	decl := styleAttr.FindSubmatch(m)[1]
	var out bytes.Buffer
	for d := range bytes.SplitSeq(decl, []byte(";")) {
		name, value, ok := bytes.Cut(d, []byte(":"))
		name, value = bytes.TrimSpace(name), bytes.TrimSpace(value)
		if !ok || len(name) == 0 || !presentationName(name) {
			continue
		}
		if out.Len() > 0 {
			out.WriteByte(' ')
		}
		out.Write(name)
		out.WriteString(`="`)
		out.WriteString(template.HTMLEscapeString(string(value)))
		out.WriteByte('"')
	}
	return out.Bytes()
}

// presentationName accepts the property names the library writes that are
// also SVG presentation attributes.
func presentationName(name []byte) bool {
	switch string(name) {
	case "fill", "stroke", "stroke-width", "stroke-dasharray", "stroke-opacity", "fill-opacity",
		"font-size", "font-family", "font-weight", "opacity", "text-anchor", "dominant-baseline":
		return true
	}
	return false
}

// truncateLabel keeps axis labels short; the table has the whole text.
func truncateLabel(s string) string {
	const maxRunes = 28
	r := []rune(s)
	if len(r) <= maxRunes {
		return s
	}
	return string(r[:maxRunes-1]) + "…"
}
