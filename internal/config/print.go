package config

import "github.com/goccy/go-yaml"

// Effective is the deployment as the roles will see it, defaults filled
// and variables expanded, as YAML; secrets show as "(set)".
func (l *Loaded) Effective() ([]byte, error) {
	return yaml.MarshalWithOptions(l.File, yaml.UseLiteralStyleIfMultiline(true))
}
