package config_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/streamfront/streamfront/internal/config"
)

// fill sets every setting of v to a value that is not zero.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i))
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.String:
		v.SetString("edge-1")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(7)
	case reflect.Float64:
		v.SetFloat(0.5)
	}
}

// zeroFields lists the exported fields of a role's Config left zero,
// following nested structs (S3, Queue).
func zeroFields(v reflect.Value, path string, out *[]string) {
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			zeroFields(fv, path+f.Name+".", out)
			continue
		}
		if fv.IsZero() {
			*out = append(*out, path+f.Name)
		}
	}
}

// Every setting of every role's Config can be reached from the file: a
// field added to a role and forgotten here fails this test.
func TestEverySettingOfEveryRoleIsReachable(t *testing.T) {
	f := config.Default()
	fill(reflect.ValueOf(f).Elem())
	f.Edge.FastPath = false // reaches the edge as DisableFastPath: true
	f.Edge.CacheAll = false // reaches the edge as DisableCacheAll: true
	// Set by the code, not by the deployment: loggers and writers are
	// the process's, an HTTP client is a library user's, a test clock a
	// test's (the edge's Now).
	notSettings := map[string]bool{"Logger": true, "AccessLog": true, "S3.HTTPClient": true, "Now": true}
	roles := map[string]any{
		"origin": f.OriginConfig(),
		"worker": f.WorkerConfig("worker-1"),
		"edge":   f.EdgeConfig(f.Edges[0]),
		"router": f.RouterConfig(),
		"web":    f.WebConfig(),
	}
	for role, cfg := range roles {
		var zero []string
		zeroFields(reflect.ValueOf(cfg), "", &zero)
		var missing []string
		for _, name := range zero {
			if !notSettings[name] && !strings.HasSuffix(name, ".Logger") {
				missing = append(missing, name)
			}
		}
		if role == "edge" {
			// With distributions, Origin, Behaviors and DisableCacheAll are each
			// distribution's; without, the file's origin.url and edge keys.
			noDist := *f
			noDist.Distributions, noDist.Web.URL = nil, ""
			single := noDist.EdgeConfig(f.Edges[0])
			if single.Origin == "" || single.Behaviors == nil || !single.DisableCacheAll {
				t.Errorf("edge without distributions: origin.url, edge.behaviors or edge.cache_all does not reach it")
			}
			missing = slices.DeleteFunc(missing, func(n string) bool {
				return n == "Origin" || n == "Behaviors" || n == "DisableCacheAll" || n == "CacheAll"
			})
		}
		if len(missing) > 0 {
			t.Errorf("%s: no key of the deployment file reaches %s", role, strings.Join(missing, ", "))
		}
	}
}
