package cachetests

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

// Baseline is the committed outcome of every required test, per run: run
// name (e.g. "root") → test id → outcome.
type Baseline map[string]map[string]Outcome

// ReadBaseline reads a baseline file.
func ReadBaseline(path string) (Baseline, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var base Baseline
	if err := json.Unmarshal(b, &base); err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	return base, nil
}

// WriteBaseline writes base to path, keys sorted so diffs stay small.
func WriteBaseline(path string, base Baseline) error {
	b, err := json.MarshalIndent(base, "", "  ") // maps are written sorted
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// RequiredOutcomes is the baseline entry of one run: each required test's
// outcome.
func RequiredOutcomes(results []Result) map[string]Outcome {
	m := make(map[string]Outcome)
	for _, r := range results {
		if r.Required() {
			m[r.ID] = r.Outcome
		}
	}
	return m
}

// StableOutcomes is RequiredOutcomes of results, except that a test
// recorded as passing must also pass in every result of more (further
// runs of the same suite, concatenated); one that did not is recorded
// with its outcome there. The gate then holds only what passes every time.
func StableOutcomes(results, more []Result) map[string]Outcome {
	m := RequiredOutcomes(results)
	for _, r := range more {
		if r.Required() && m[r.ID] == Pass && r.Outcome != Pass {
			m[r.ID] = r.Outcome
		}
	}
	return m
}

// Change is a required test whose outcome differs from the baseline's.
type Change struct {
	Result
	Was Outcome
}

// Compare returns the required tests that passed in base and no longer
// do (regressions), and those that pass now and did not (improvements),
// each sorted by id. A test missing from base counts as not passing
// before.
func Compare(base map[string]Outcome, results []Result) (regressed, improved []Change) {
	for _, r := range results {
		if !r.Required() {
			continue
		}
		was, ok := base[r.ID]
		if !ok {
			was = "absent"
		}
		switch {
		case was == Pass && r.Outcome != Pass:
			regressed = append(regressed, Change{r, was})
		case was != Pass && r.Outcome == Pass:
			improved = append(improved, Change{r, was})
		}
	}
	byID := func(c []Change) { sort.Slice(c, func(i, j int) bool { return c[i].ID < c[j].ID }) }
	byID(regressed)
	byID(improved)
	return regressed, improved
}
