package openapi

import (
	_ "embed"
	"fmt"

	"github.com/goccy/go-yaml"
)

//go:embed openapi.yaml
var document []byte

// YAML is the document as written.
func YAML() []byte { return append([]byte(nil), document...) }

// JSON is the document as JSON, as clients fetch it.
func JSON() ([]byte, error) {
	j, err := yaml.YAMLToJSON(document)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return j, nil
}
