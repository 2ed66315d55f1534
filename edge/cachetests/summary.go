package cachetests

import (
	"fmt"
	"io"
	"strings"
)

// Counts are the outcomes of one group of tests.
type Counts struct {
	Pass, Fail, Setup int
}

func (c *Counts) add(o Outcome) {
	switch o {
	case Pass:
		c.Pass++
	case Fail:
		c.Fail++
	case Setup:
		c.Setup++
	}
}

// Summary counts one run's results as cache-tests.fyi groups them.
type Summary struct {
	// Required are the required tests of the main suite (157 in 0.4.5).
	Required Counts
	// Optional are the "optimal" tests: a failure is a warning.
	Optional Counts
	// Checks are informational tests (yes / no).
	Checks Counts
	// SurrogateRequired are the required tests of the Surrogate-Control
	// suite, which the CLI runs beside the others.
	SurrogateRequired Counts
}

// Summarize counts results.
func Summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		switch {
		case r.Suite == SuiteSurrogateControl && r.Required():
			s.SurrogateRequired.add(r.Outcome)
		case r.Suite == SuiteSurrogateControl:
			// Optional and check tests of Surrogate-Control are too few to
			// be worth a column.
		case r.Required():
			s.Required.add(r.Outcome)
		case r.Kind == KindOptimal:
			s.Optional.add(r.Outcome)
		case r.Kind == KindCheck:
			s.Checks.add(r.Outcome)
		}
	}
	return s
}

// Row is one line of the table: a cache and its run's summary.
type Row struct {
	Cache   string
	Summary Summary
}

// WriteTable writes rows as a Markdown table. "Could not set up" counts
// with the failures in the optional and check columns, as the suite's
// page shows them apart only for required tests.
func WriteTable(w io.Writer, rows []Row) error {
	var b strings.Builder
	b.WriteString("| cache | required: pass / fail / could not set up | optional: pass / fail | Surrogate-Control required: pass / fail / could not set up |\n")
	b.WriteString("|---|---|---|---|\n")
	for _, r := range rows {
		s := r.Summary
		fmt.Fprintf(&b, "| %s | %d / %d / %d | %d / %d | %d / %d / %d |\n", r.Cache,
			s.Required.Pass, s.Required.Fail, s.Required.Setup,
			s.Optional.Pass, s.Optional.Fail+s.Optional.Setup,
			s.SurrogateRequired.Pass, s.SurrogateRequired.Fail, s.SurrogateRequired.Setup)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteFailures lists the required tests that did not pass, one line each
// with the suite's reason, grouped by suite.
func WriteFailures(w io.Writer, results []Result) error {
	var b strings.Builder
	suite := ""
	for _, r := range results {
		if !r.Required() || r.Outcome == Pass {
			continue
		}
		if r.Suite != suite {
			suite = r.Suite
			fmt.Fprintf(&b, "%s:\n", suite)
		}
		fmt.Fprintf(&b, "  %-5s %s — %s\n", r.Outcome, r.ID, r.Message)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
