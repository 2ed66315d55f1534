package cachetests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
)

// Outcome is how one test ended, in the suite's own terms (its
// lib/display.mjs determineTestResult).
type Outcome string

const (
	// Pass: every assertion held.
	Pass Outcome = "pass"
	// Fail: an assertion about the cache's behaviour failed.
	Fail Outcome = "fail"
	// Setup: the test could not be set up — a step it needs to reach
	// the behaviour it checks failed (e.g. the origin never saw a header the
	// test sent), or a request was retried. The suite shows these apart
	// from failures.
	Setup Outcome = "setup"
)

// Kinds of test in the suite's metadata: "required" (also when unset),
// "optimal" (shown as optional) and "check" (informational, neither right
// nor wrong).
const (
	KindRequired = "required"
	KindOptimal  = "optimal"
	KindCheck    = "check"
)

// SuiteSurrogateControl is the suite the CLI adds to tests/index.mjs;
// cache-tests.fyi and the counts of required tests leave it out,
// so it is counted on its own.
const SuiteSurrogateControl = "surrogate-control"

// Result is one test's metadata and outcome.
type Result struct {
	ID      string
	Suite   string
	Name    string
	Kind    string
	Outcome Outcome
	// Message is the suite's reason for a failure or setup failure.
	Message string
}

// Required says whether the test is one a cache must pass.
func (r Result) Required() bool { return r.Kind == KindRequired }

// Run runs the suite's client (node run.mjs in dir) against the cache at
// base, every test once, and returns the results in the suite's order.
func Run(ctx context.Context, dir, base string) ([]Result, error) {
	if err := checkInstalled(dir); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "node", "--no-warnings", "run.mjs", strings.TrimSuffix(base, "/"))
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("cache-tests client against %s: %w (stderr: %s)", base, err, strings.TrimSpace(stderr.String()))
	}
	return parseResults(stdout.Bytes())
}

// parseResults reads run.mjs's output. A result is true for a pass, or
// [error name, message] where the name is "Setup" for a test that could
// not be set up and "Assertion" (or a JavaScript error's name) otherwise.
func parseResults(b []byte) ([]Result, error) {
	var raw []struct {
		ID     string          `json:"id"`
		Suite  string          `json:"suite"`
		Name   string          `json:"name"`
		Kind   string          `json:"kind"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("cache-tests client output: %w", err)
	}
	out := make([]Result, 0, len(raw))
	for _, r := range raw {
		res := Result{ID: r.ID, Suite: r.Suite, Name: r.Name, Kind: r.Kind}
		var ok bool
		if json.Unmarshal(r.Result, &ok) == nil {
			if !ok {
				return nil, fmt.Errorf("cache-tests result of %s: false without a reason", r.ID)
			}
			res.Outcome = Pass
		} else {
			var why []string
			if err := json.Unmarshal(r.Result, &why); err != nil || len(why) == 0 {
				return nil, fmt.Errorf("cache-tests result of %s: %s is neither true nor [name, message]", r.ID, r.Result)
			}
			res.Outcome = Fail
			if why[0] == "Setup" {
				res.Outcome = Setup
			}
			if len(why) > 1 {
				res.Message = why[1]
			}
		}
		out = append(out, res)
	}
	return out, nil
}
