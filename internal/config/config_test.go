package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/edge"
	"github.com/streamfront/streamfront/internal/config"
	"github.com/streamfront/streamfront/internal/testenv"
)

func noEnv(string) (string, bool) { return "", false }

func TestLoad_TheCommittedFileIsGood(t *testing.T) {
	l, err := config.Load(testenv.RepoRoot(t)+"/streamfront.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Check(); err != nil {
		t.Fatal(err)
	}
}

func TestParse_ReportsEveryMistakeWithItsLine(t *testing.T) {
	yaml := `log_level: info
origin:
  package_slot: 4
  lease_ttl: -5s
edge:
  memory_size: lots
edges:
  - name: edge-1
    url: http://localhost:8081
    shields: [edge-9]
`
	_, err := config.Parse("deploy.yaml", []byte(yaml), noEnv)
	if err == nil {
		t.Fatal("a file with three mistakes loaded")
	}
	for _, want := range []string{
		`deploy.yaml:3: origin.package_slot: unknown key "package_slot" (did you mean "package_slots"?)`,
		`deploy.yaml:4: origin.lease_ttl: "-5s" is negative`,
		`deploy.yaml:6: edge.memory_size: "lots" is not a size`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}

	// Once the file reads, the deployment's own rules: shields name edges,
	// and the origin needs its secret.
	yaml = `edges:
  - name: edge-1
    url: http://localhost:8081
    shields: [edge-9]
`
	_, err = config.Parse("deploy.yaml", []byte(yaml), noEnv)
	if err == nil {
		t.Fatal("an edge shielded by an unknown edge loaded")
	}
	if want := `deploy.yaml:4: edges[0].shields[0]: "edge-9" is not the name of an edge`; !strings.Contains(err.Error(), want) {
		t.Errorf("error does not say %q:\n%v", want, err)
	}
	l, err := config.Parse("deploy.yaml", []byte("queue:\n  url: nats://q:4222\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	err = l.Check("origin")
	for _, want := range []string{
		"deploy.yaml: secrets.api_key: is required by the origin",
		"deploy.yaml: site.web_url: is required by the origin",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check(origin) does not say %q:\n%v", want, err)
		}
	}
}

func TestParse_ExpandsVariables(t *testing.T) {
	env := map[string]string{"EDGE_SECRET": "from-env", "EMPTY": ""}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	l, err := config.Parse("d.yaml", []byte(`secrets:
  edge_secret: ${EDGE_SECRET}
  admin_token: ${EMPTY:-fallback}
  api_key: "$$dollar${UNSET:-}"
`), getenv)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(l.Secrets.EdgeSecret); got != "from-env" {
		t.Errorf("edge_secret = %q", got)
	}
	if got := string(l.Secrets.AdminToken); got != "fallback" {
		t.Errorf("admin_token = %q, want the default of an empty variable", got)
	}
	if got := string(l.Secrets.APIKey); got != "$dollar" {
		t.Errorf("api_key = %q", got)
	}
	_, err = config.Parse("d.yaml", []byte("log_level: info\nsecrets:\n  api_key: ${NOT_SET}\n"), getenv)
	if err == nil || !strings.Contains(err.Error(), "d.yaml:3: ${NOT_SET} is not set") {
		t.Errorf("an unset variable without default: %v", err)
	}
}

func TestSecrets_AreNeverPrinted(t *testing.T) {
	l, err := config.Parse("d.yaml", []byte("secrets:\n  api_key: hunter2-hunter2\n  signing_key: {id: k1, secret: 0123456789abcdef0123}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	out, err := l.Effective()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "hunter2") || strings.Contains(string(out), "0123456789abcdef") {
		t.Errorf("the effective configuration shows a secret:\n%s", out)
	}
	if !strings.Contains(string(out), "api_key: (set)") || !strings.Contains(string(out), "id: k1") {
		t.Errorf("the effective configuration does not say which secrets are set:\n%s", out)
	}
}

// A variable's value never changes the file's structure: a secret with
// YAML's characters in it stays one secret.
func TestParse_VariablesCannotChangeTheStructure(t *testing.T) {
	env := map[string]string{"HOSTILE": `a #b: c"d'e`, "DIGITS": "12345", "HOST": "0.0.0.0"}
	getenv := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	l, err := config.Parse("d.yaml", []byte(`# ${UNSET_IN_A_COMMENT} is not expanded
secrets:
  api_key: ${HOSTILE}   # the whole value: quoted
  edge_secret: "x-${HOSTILE}"
  admin_token: 'y-${HOSTILE}'
  signing_key: {id: k, secret: ${DIGITS}${DIGITS}${DIGITS}${DIGITS}}
origin:
  addr: ${HOST}:8090
`), getenv)
	if err != nil {
		t.Fatal(err)
	}
	for got, want := range map[string]string{
		string(l.Secrets.APIKey):            `a #b: c"d'e`,
		string(l.Secrets.EdgeSecret):        `x-a #b: c"d'e`,
		string(l.Secrets.AdminToken):        `y-a #b: c"d'e`,
		string(l.Secrets.SigningKey.Secret): "12345123451234512345",
		l.Origin.Addr:                       "0.0.0.0:8090",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	_, err = config.Parse("d.yaml", []byte("origin:\n  addr: ${HOSTILE}:8090\n"), getenv)
	if err == nil || !strings.Contains(err.Error(), "d.yaml:2: the value of HOSTILE holds characters YAML gives meaning to") {
		t.Errorf("a hostile value inside a plain value: %v", err)
	}
}

// edge.usage reaches every edge as a Sink on the queue and an interval;
// metering needs queue.url, a positive interval and edge names a report
// can carry.
func TestEdgeUsage_KeysReachTheEdgesAndAreChecked(t *testing.T) {
	const base = "queue:\n  url: nats://q:4222\norigin:\n  url: http://o:8090\nedges:\n  - name: edge-1\n    url: http://e:8081\n"
	l, err := config.Parse("deploy.yaml", []byte(base+"edge:\n  usage:\n    interval: 3s\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Check("edge"); err != nil {
		t.Fatal(err)
	}
	ec := l.EdgeConfig(l.Edges[0])
	if ec.UsageSink == nil || ec.UsageInterval != 3*time.Second {
		t.Errorf("edge config: sink %v, interval %v; want a queue sink every 3s", ec.UsageSink, ec.UsageInterval)
	}

	l, err = config.Parse("deploy.yaml", []byte(base+"edge:\n  usage:\n    enabled: false\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if ec := l.EdgeConfig(l.Edges[0]); ec.UsageSink != nil {
		t.Errorf("usage disabled, yet the edge meters")
	}

	for yaml, want := range map[string]string{
		"origin:\n  url: http://o:8090\n":                        "queue.url: is required by the edge: edges report usage through it",
		base + "edge:\n  usage:\n    interval: 0s\n":             "edge.usage.interval: must be more than 0",
		strings.Replace(base, "name: edge-1", "name: edge/1", 1): `edges[0].name: "edge/1" must be 1-64 of`,
	} {
		l, err := config.Parse("deploy.yaml", []byte(yaml), noEnv)
		if err == nil {
			err = l.Check("edge")
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one that says %q", yaml, err, want)
		}
	}
}

func TestEdge_CacheAllAndPolicies(t *testing.T) {
	l, err := config.Parse("d.yaml", []byte(`edge:
  cache_all: true
  behaviors:
    - pattern: /api/**
      policy: pass
    - pattern: /assets/**
      policy: rfc9111
      query_keys: [v]
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := l.EdgeConfig(config.EdgeNode{Name: "e1"})
	if cfg.DisableCacheAll {
		t.Error("edge.cache_all: true reached the edge as DisableCacheAll")
	}
	if cfg := config.Default().EdgeConfig(config.EdgeNode{Name: "e1"}); cfg.DisableCacheAll {
		t.Error("without edge.cache_all the edge does not cache every path")
	}
	off, err := config.Parse("d.yaml", []byte("edge:\n  cache_all: false\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !off.EdgeConfig(config.EdgeNode{Name: "e1"}).DisableCacheAll {
		t.Error("edge.cache_all: false did not reach edge.Config.DisableCacheAll")
	}
	if len(cfg.Behaviors) != 2 || cfg.Behaviors[0].Policy != edge.PolicyPass || cfg.Behaviors[1].Policy != edge.PolicyRFC9111 ||
		len(cfg.Behaviors[1].QueryKeys) != 1 {
		t.Errorf("behaviors = %+v", cfg.Behaviors)
	}

	_, err = config.Parse("d.yaml", []byte("edge:\n  behaviors:\n    - pattern: /x/**\n      policy: forever\n"), noEnv)
	if want := `d.yaml:4: edge.behaviors[0].policy: "forever" is not a caching policy`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error does not say %q:\n%v", want, err)
	}
}

func TestEdge_BlockingReloadTimeoutReachesTheEdges(t *testing.T) {
	l, err := config.Parse("d.yaml", []byte("edge:\n  blocking_reload_timeout: 12s\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.EdgeConfig(config.EdgeNode{Name: "e1"}).BlockingReloadTimeout; got != 12*time.Second {
		t.Errorf("edge.blocking_reload_timeout reached the edge as %v", got)
	}
	d, err := config.Parse("d.yaml", nil, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.EdgeConfig(config.EdgeNode{Name: "e1"}).BlockingReloadTimeout; got != 0 {
		t.Errorf("default blocking_reload_timeout %v, want 0 (the edge's default)", got)
	}
}

func TestDistributions_BuildAndReportMistakes(t *testing.T) {
	l, err := config.Parse("d.yaml", []byte(`s3:
  access_key: ak
  secret_key: sk-secret
distributions:
  - name: site
    cache_all: true
    origins:
      - {name: web, url: "http://127.0.0.1:8080"}
      - {name: origin, url: "http://127.0.0.1:8090"}
    behaviors:
      - {pattern: "/api/**", policy: pass, origin: origin}
      - {pattern: "/videos/**", origin: origin}
  - name: files
    hosts: [files.example.com]
    origins:
      - name: bucket
        s3: {bucket: public-site, endpoint: "http://127.0.0.1:8100", prefix: www}
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := l.EdgeConfig(config.EdgeNode{Name: "e1"})
	if err := cfg.Check(); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Distributions) != 2 || cfg.Origin != "" || cfg.Distributions[0].Behaviors[0].Origin != "origin" {
		t.Fatalf("distributions = %+v (origin %q)", cfg.Distributions, cfg.Origin)
	}
	if s3 := cfg.Distributions[1].Origins[0].S3; s3 == nil || s3.AccessKey != "ak" || s3.Prefix != "www" {
		t.Errorf("the S3 origin does not take s3's keys: %+v", s3)
	}

	_, err = config.Parse("d.yaml", []byte(`distributions:
  - name: a
    origins:
      - {name: web, url: "http://x"}
    behaviors:
      - {pattern: "/api/**", origin: api}
  - name: b
    origins:
      - {name: web}
`), noEnv)
	for _, want := range []string{
		`d.yaml:6: distributions[0].behaviors[0].origin: "api" is not one of this distribution's origins`,
		`distributions[1].hosts: is empty, as is a's: only one distribution can be the default`,
		`d.yaml:9: distributions[1].origins[0]: needs url (an HTTP server) or s3.bucket`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

// The site's dashboard reads the router's /edges at router.internal_url,
// and at the router's public URL when that is not set.
func TestWebConfig_RouterURL(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"site:\n  media_url: http://media.example\n", "http://media.example"},
		{"site:\n  media_url: http://media.example\nrouter:\n  internal_url: http://router:8083\n", "http://router:8083"},
	} {
		l, err := config.Parse("d.yaml", []byte(tc.yaml), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.WebConfig().RouterURL; got != tc.want {
			t.Errorf("%s: RouterURL %q, want %q", tc.yaml, got, tc.want)
		}
	}
	if _, err := config.Parse("d.yaml", []byte("router:\n  internal_url: router:8083\n"), noEnv); err == nil || !strings.Contains(err.Error(), "router.internal_url") {
		t.Errorf("a router.internal_url without a scheme: %v", err)
	}
}

// web.url puts the site behind every edge: one default distribution whose
// behaviours send the API and media to the origin and everything else to
// the site, with the file's own behaviours first.
func TestSiteDistribution_FromWebURL(t *testing.T) {
	l, err := config.Parse("d.yaml", []byte(`origin:
  url: http://127.0.0.1:8090
web:
  url: http://127.0.0.1:8080
edge:
  cache_all: false
  behaviors:
    - {pattern: "/videos/**.m3u8", max_ttl: 5s}
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := l.EdgeConfig(config.EdgeNode{Name: "e1"})
	if err := cfg.Check(); err != nil {
		t.Fatalf("the edge refuses the site distribution: %v", err)
	}
	if cfg.Origin != "" || cfg.DisableCacheAll || cfg.Behaviors != nil || len(cfg.Distributions) != 1 {
		t.Fatalf("origin %q, disable cache_all %v, behaviors %v, %d distributions; want one distribution and nothing beside it",
			cfg.Origin, cfg.DisableCacheAll, cfg.Behaviors, len(cfg.Distributions))
	}
	d := cfg.Distributions[0]
	if len(d.Hosts) != 0 || d.DisableCacheAll {
		t.Errorf("hosts %v, disable cache_all %v: want the default distribution, caching every path", d.Hosts, d.DisableCacheAll)
	}
	origins := map[string]string{}
	for _, o := range d.Origins {
		origins[o.Name] = o.URL
	}
	if d.Origins[0].Name != "origin" || origins["origin"] != "http://127.0.0.1:8090" || origins["web"] != "http://127.0.0.1:8080" {
		t.Errorf("origins %+v: want origin.url first, then web.url", d.Origins)
	}
	type route struct {
		pattern string
		policy  edge.Policy
		origin  string
	}
	var got []route
	for _, b := range d.Behaviors {
		got = append(got, route{b.Pattern, b.Policy, b.Origin})
	}
	want := []route{
		{"/videos/**.m3u8", "", ""}, // the file's, from the origin
		{"/api/**", edge.PolicyPass, "origin"},
		{"/videos/**", "", "origin"},
		{"/admin", edge.PolicyPass, "web"},
		{"/admin/**", edge.PolicyPass, "web"},
		{"/**", edge.PolicyRFC9111, "web"},
	}
	if len(got) != len(want) {
		t.Fatalf("behaviors %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("behavior %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if d.Behaviors[0].MaxTTL != 5*time.Second {
		t.Errorf("the file's behaviour lost its max_ttl: %+v", d.Behaviors[0])
	}

	for yaml, want := range map[string]string{
		"web:\n  url: web:8080\n": `web.url: "web:8080" must be an absolute http(s) URL`,
		"web:\n  url: http://web:8080\ndistributions:\n  - name: a\n    origins:\n      - {name: o, url: \"http://x\"}\n": "web.url: serves the site through the edges' one distribution, but distributions are listed",
	} {
		if _, err := config.Parse("d.yaml", []byte(yaml), noEnv); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", yaml, err, want)
		}
	}
}
