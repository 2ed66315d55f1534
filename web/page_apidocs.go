package web

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/streamfront/streamfront/origin/openapi"
)

// The API reference at /docs/api, rendered from the OpenAPI document the
// origin serves and the tests hold the servers to, so the page cannot say
// other than what the API does.

type apiDoc struct {
	Info struct {
		Title       string `yaml:"title"`
		Summary     string `yaml:"summary"`
		Description string `yaml:"description"`
	} `yaml:"info"`
	Paths      map[string]map[string]any `yaml:"paths"`
	Components struct {
		Schemas map[string]apiSchema `yaml:"schemas"`
	} `yaml:"components"`
}

type apiSchema struct {
	Type        any                  `yaml:"type"`
	Description string               `yaml:"description"`
	Required    []string             `yaml:"required"`
	Properties  map[string]apiSchema `yaml:"properties"`
	Enum        []any                `yaml:"enum"`
	Ref         string               `yaml:"$ref"`
	Items       *apiSchema           `yaml:"items"`
}

type apiOperation struct {
	Summary     string                `yaml:"summary"`
	Description string                `yaml:"description"`
	Security    []map[string][]string `yaml:"security"`
	Parameters  []struct {
		Name        string    `yaml:"name"`
		In          string    `yaml:"in"`
		Description string    `yaml:"description"`
		Required    bool      `yaml:"required"`
		Schema      apiSchema `yaml:"schema"`
		Ref         string    `yaml:"$ref"`
	} `yaml:"parameters"`
	RequestBody *struct {
		Content map[string]any `yaml:"content"`
	} `yaml:"requestBody"`
	Responses map[string]struct {
		Description string `yaml:"description"`
		Ref         string `yaml:"$ref"`
	} `yaml:"responses"`
}

// apiDocsView is what the template shows.
type apiDocsView struct {
	Title, Summary, Description string
	Operations                  []apiOpView
	Schemas                     []apiSchemaView
}

type apiOpView struct {
	Method, Path, Anchor, Summary, Description string
	NeedsKey                                   bool
	Params                                     []apiFieldView
	Bodies                                     []string
	Responses                                  []apiFieldView
}

type apiFieldView struct{ Name, Where, Type, Description string }

type apiSchemaView struct {
	Name   string
	Fields []apiFieldView
}

func typeOf(s apiSchema) string {
	switch {
	case s.Ref != "":
		return strings.TrimPrefix(s.Ref, "#/components/schemas/")
	case s.Items != nil:
		return typeOf(*s.Items) + "[]"
	case len(s.Enum) > 0:
		var vals []string
		for _, v := range s.Enum {
			vals = append(vals, fmt.Sprintf("%q", v))
		}
		return strings.Join(vals, " | ")
	case s.Type != nil:
		return fmt.Sprint(s.Type)
	}
	return "any"
}

// buildAPIDocs reads the document once, at New.
func buildAPIDocs() (apiDocsView, error) {
	var d apiDoc
	if err := yaml.Unmarshal(openapi.YAML(), &d); err != nil {
		return apiDocsView{}, fmt.Errorf("web: the OpenAPI document: %w", err)
	}
	v := apiDocsView{Title: d.Info.Title, Summary: d.Info.Summary, Description: d.Info.Description}
	paths := make([]string, 0, len(d.Paths))
	for p := range d.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		for _, method := range []string{"get", "post", "patch", "put", "delete"} {
			raw, ok := d.Paths[p][method]
			if !ok {
				continue
			}
			b, err := yaml.Marshal(raw)
			if err != nil {
				return v, err
			}
			var op apiOperation
			if err := yaml.Unmarshal(b, &op); err != nil {
				return v, fmt.Errorf("web: the OpenAPI document: %s %s: %w", method, p, err)
			}
			ov := apiOpView{Method: strings.ToUpper(method), Path: p, Summary: op.Summary, Description: op.Description,
				Anchor: strings.ToLower(method) + strings.NewReplacer("/", "-", "{", "", "}", "").Replace(p)}
			for _, sec := range op.Security {
				if _, ok := sec["apiKey"]; ok && len(op.Security) == 1 {
					ov.NeedsKey = true
				}
			}
			if strings.Contains(p, "{id}") {
				ov.Params = append(ov.Params, apiFieldView{Name: "id", Where: "path", Type: "string", Description: "The video's ID."})
			}
			for _, prm := range op.Parameters {
				if prm.Ref != "" {
					continue // the path's id, shown above
				}
				ov.Params = append(ov.Params, apiFieldView{Name: prm.Name, Where: prm.In, Type: typeOf(prm.Schema), Description: prm.Description})
			}
			if op.RequestBody != nil {
				for ct := range op.RequestBody.Content {
					ov.Bodies = append(ov.Bodies, ct)
				}
				slices.Sort(ov.Bodies)
			}
			codes := make([]string, 0, len(op.Responses))
			for code := range op.Responses {
				codes = append(codes, code)
			}
			slices.Sort(codes)
			for _, code := range codes {
				r := op.Responses[code]
				desc := r.Description
				if desc == "" {
					desc = http.StatusText(atoiOr(code)) + " (see Error)"
				}
				ov.Responses = append(ov.Responses, apiFieldView{Name: code, Description: desc})
			}
			v.Operations = append(v.Operations, ov)
		}
	}
	names := make([]string, 0, len(d.Components.Schemas))
	for n := range d.Components.Schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := d.Components.Schemas[n]
		sv := apiSchemaView{Name: n}
		props := make([]string, 0, len(s.Properties))
		for p := range s.Properties {
			props = append(props, p)
		}
		sort.Strings(props)
		for _, p := range props {
			f := s.Properties[p]
			where := "optional"
			if slices.Contains(s.Required, p) {
				where = "always"
			}
			sv.Fields = append(sv.Fields, apiFieldView{Name: p, Where: where, Type: typeOf(f), Description: f.Description})
		}
		if len(sv.Fields) == 0 {
			sv.Fields = []apiFieldView{{Name: "(value)", Type: typeOf(s), Description: s.Description}}
		}
		v.Schemas = append(v.Schemas, sv)
	}
	return v, nil
}

func atoiOr(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// apiDocs renders /docs/api.
func (s *Server) apiDocs(w http.ResponseWriter, _ *http.Request) error {
	p := s.newPage("API reference")
	p.Nav = "api"
	p.Canonical = s.cfg.PublicURL + "/docs/api"
	p.Description = "The HTTP API of " + s.cfg.SiteName + ": upload videos, follow their packaging, manage what the edges serve."
	p.Body = s.apiDocsView
	w.Header().Set("Cache-Control", "public, max-age=300")
	return s.render(w, http.StatusOK, "apidocs", p)
}
