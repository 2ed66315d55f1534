package testenv

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"
)

// RunWithAPIContract runs a package's tests with every request to
// /api/v1/… made through http.DefaultClient (http.Get, http.Post…), and
// every answer, checked
// against the OpenAPI document (origin/openapi/openapi.yaml), so the
// document cannot drift from what the servers do. A mismatch fails the
// run, listing each with the request that showed it. Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.RunWithAPIContract(m)) }
func RunWithAPIContract(m *testing.M) int {
	c, err := newContract()
	if err != nil {
		fmt.Fprintln(os.Stderr, "API contract:", err)
		return 1
	}
	// The client, not http.DefaultTransport: servers under test clone the
	// default transport for their own clients and must get a real one.
	prev := http.DefaultClient.Transport
	c.next = http.DefaultTransport
	http.DefaultClient.Transport = c
	code := m.Run()
	http.DefaultClient.Transport = prev
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.problems) > 0 {
		fmt.Fprintf(os.Stderr, "API contract: %d of %d API exchanges do not match origin/openapi/openapi.yaml:\n  %s\n",
			len(c.problems), c.checked, strings.Join(c.problems, "\n  "))
		return 1
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "API contract: %d API exchanges match origin/openapi/openapi.yaml\n", c.checked)
	}
	return code
}

// contract is a RoundTripper that checks API exchanges.
type contract struct {
	v    validator.Validator
	next http.RoundTripper

	mu       sync.Mutex
	checked  int
	problems []string
	seen     map[string]bool
}

func newContract() (*contract, error) {
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "origin", "openapi", "openapi.yaml")
	spec, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %v", path, errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		var msgs []string
		for _, e := range verrs {
			msgs = append(msgs, e.Message+": "+e.Reason)
			for _, se := range e.SchemaValidationErrors {
				msgs = append(msgs, fmt.Sprintf("  line %d: %s: %s", se.Line, se.FieldPath, se.Reason))
			}
		}
		return nil, fmt.Errorf("%s is not a valid OpenAPI document: %s", path, strings.Join(msgs, "; "))
	}
	return &contract{v: v, seen: map[string]bool{}}, nil
}

// maxChecked bounds the JSON bodies buffered to be checked.
const maxChecked = 8 << 20

func isJSON(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/json"
}

func (c *contract) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.Path, "/api/v1/") {
		return c.next.RoundTrip(req)
	}
	// Request bodies are checked when JSON (small); uploads are streamed
	// through untouched (a test may send a body that fails on purpose).
	var reqErrs []*verrors.ValidationError
	if req.Body != nil && req.Body != http.NoBody && isJSON(req.Header.Get("Content-Type")) {
		body, err := io.ReadAll(io.LimitReader(req.Body, maxChecked))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		check := req.Clone(req.Context())
		check.Body = io.NopCloser(bytes.NewReader(body))
		_, reqErrs = c.v.ValidateHttpRequest(check)
	} else if req.Body == nil || req.Body == http.NoBody {
		if req.Method == http.MethodGet || req.Method == http.MethodDelete {
			_, reqErrs = c.v.ValidateHttpRequest(req.Clone(req.Context()))
		}
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	// A request outside the contract that the server refused (4xx) is a
	// test of the refusal; one it accepted is a server that does more (or
	// less) than the document says.
	if len(reqErrs) > 0 && (resp.StatusCode < 400 || resp.StatusCode >= 500) {
		c.report(req, fmt.Sprintf("request (answered %d)", resp.StatusCode), reqErrs)
	}
	check := *resp
	check.Body = http.NoBody
	if isJSON(resp.Header.Get("Content-Type")) {
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxChecked))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		check.Body = io.NopCloser(bytes.NewReader(body))
	}
	checkReq := req.Clone(req.Context())
	checkReq.Body = http.NoBody
	ok, errs := c.v.ValidateHttpResponse(checkReq, &check)
	c.mu.Lock()
	c.checked++
	c.mu.Unlock()
	if !ok {
		c.report(req, fmt.Sprintf("answer %d", resp.StatusCode), errs)
	}
	return resp, nil
}

func (c *contract) report(req *http.Request, what string, errs []*verrors.ValidationError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range errs {
		line := fmt.Sprintf("%s %s: %s: %s", req.Method, req.URL.Path, what, e.Message)
		if e.Reason != "" {
			line += " (" + e.Reason + ")"
		}
		for _, s := range e.SchemaValidationErrors {
			line += "; " + s.FieldPath + ": " + s.Reason
		}
		if !c.seen[line] {
			c.seen[line] = true
			c.problems = append(c.problems, line)
		}
	}
}
