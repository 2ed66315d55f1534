package stack_test

import (
	"os"
	"testing"

	"github.com/streamfront/streamfront/internal/testenv"
)

// Every API exchange of these tests (through the site's proxy too) is
// checked against the OpenAPI document.
func TestMain(m *testing.M) { os.Exit(testenv.RunWithAPIContract(m)) }
