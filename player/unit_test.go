package player_test

import (
	"os/exec"
	"testing"

	"github.com/streamfront/streamfront/internal/testenv"
)

// The player's own unit tests (src/*.test.js: steering, storyboard, views)
// run with Node's test runner.
func TestPlayerUnitTests(t *testing.T) {
	node := testenv.Require(t, "node")
	cmd := exec.Command(node, "--test", "src/")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test src/: %v\n%s", err, out)
	}
}
