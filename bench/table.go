package bench

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// section is one measurement's part of the report: a heading, its tables
// and notes saying how the figures were taken and how to read them.
type section struct {
	title  string
	tables []*table
	notes  []string
	err    error // the step failed: printed instead of (or after) its tables
}

func (s *section) note(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

// table is a Markdown table.
type table struct {
	header []string
	rows   [][]string
}

func newTable(header ...string) *table { return &table{header: header} }

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// markdown renders the table with padded columns, so it reads as well in a
// terminal as on GitHub.
func (t *table) markdown() string {
	width := make([]int, len(t.header))
	for i, h := range t.header {
		width[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i := range min(len(r), len(width)) {
			width[i] = max(width[i], utf8.RuneCountInString(r[i]))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i := range width {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			b.WriteString(" " + c + strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)) + " |")
		}
		b.WriteString("\n")
	}
	line(t.header)
	b.WriteString("|")
	for _, w := range width {
		b.WriteString(strings.Repeat("-", w+2) + "|")
	}
	b.WriteString("\n")
	for _, r := range t.rows {
		line(r)
	}
	return b.String()
}

func (s *section) markdown() string {
	var b strings.Builder
	b.WriteString("## " + s.title + "\n\n")
	for _, t := range s.tables {
		b.WriteString(t.markdown() + "\n")
	}
	if s.err != nil {
		b.WriteString("**FAILED:** " + s.err.Error() + "\n\n")
	}
	for _, n := range s.notes {
		b.WriteString("- " + n + "\n")
	}
	if len(s.notes) > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

// Formatting helpers: binary units for sizes (as wrk prints them), one
// style everywhere.

func fmtBytes(n int64) string {
	switch {
	case n < 0:
		return "-" + fmtBytes(-n)
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func fmtRate(bytesPerSecond float64) string {
	return fmtBytes(int64(bytesPerSecond)) + "/s"
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + fmtDuration(-d)
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%d µs", d.Microseconds())
}

func fmtRatio(r float64) string { return fmt.Sprintf("%.2f×", r) }

func fmtCount(f float64) string {
	s := fmt.Sprintf("%.0f", f)
	// Thousands separators make 123456 readable at a glance.
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
