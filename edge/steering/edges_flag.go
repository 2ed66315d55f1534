package steering

import (
	"errors"
	"fmt"
	"strings"
)

// ParseEdges reads edges written on a command line or in an environment
// variable: edges is "name=URL" pairs separated by commas, e.g.
// "edge-1=https://e1.example.com,edge-2=https://e2.example.com"; internal,
// which may be empty, gives InternalURLs the same way for some or all of
// them ("edge-1=http://edge-1:8081,..."). Names and URLs are checked by
// New, not here.
func ParseEdges(edges, internal string) ([]Edge, error) {
	public, order, err := parsePairs(edges)
	if err != nil {
		return nil, fmt.Errorf("edges: %w", err)
	}
	if len(order) == 0 {
		return nil, errors.New("edges: give at least one name=URL")
	}
	private, privateOrder, err := parsePairs(internal)
	if err != nil {
		return nil, fmt.Errorf("internal edge URLs: %w", err)
	}
	for _, name := range privateOrder {
		if _, ok := public[name]; !ok {
			return nil, fmt.Errorf("internal edge URLs: %q is not one of the edges", name)
		}
	}
	out := make([]Edge, len(order))
	for i, name := range order {
		out[i] = Edge{Name: name, URL: public[name], InternalURL: private[name]}
	}
	return out, nil
}

// parsePairs splits "a=x,b=y" into a map and the names in order.
func parsePairs(s string) (map[string]string, []string, error) {
	m := map[string]string{}
	var order []string
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return nil, nil, fmt.Errorf("%q is not name=URL", part)
		}
		if _, dup := m[name]; dup {
			return nil, nil, fmt.Errorf("%q is named twice", name)
		}
		m[name] = value
		order = append(order, name)
	}
	return m, order, nil
}
