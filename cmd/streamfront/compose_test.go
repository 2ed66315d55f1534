package main

import (
	"context"
	"io"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/streamfront/streamfront/edge"
	"github.com/streamfront/streamfront/edge/steering"
	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/internal/urlsign"
	"github.com/streamfront/streamfront/origin"
	"github.com/streamfront/streamfront/web"
)

// No Docker engine runs where tests run, so docker-compose.yml is checked
// by loading it as Compose does and comparing it with what each role of
// streamfront reads: the variables, ports and addresses must agree.

func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	root := testenv.RepoRoot(t)
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml")}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) { o.SetProjectName("streamfront", true) })
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	return p
}

// roleVars lists the environment variables each role reads.
func roleVars() map[string]*flags {
	var lvl string
	return map[string]*flags{
		"origin": originFlags(&origin.Config{}, &lvl, io.Discard),
		"worker": workerFlags(&origin.WorkerConfig{}, &lvl, io.Discard),
		"nats":   natsFlags(&natsConfig{}, io.Discard),
		"edge":   edgeFlags(&edge.Config{}, &lvl, &lvl, io.Discard),
		"router": routerFlags(&steering.Config{}, new(string), new(string), &lvl, io.Discard),
		"web":    webFlags(&web.Config{}, &lvl, io.Discard),
	}
}

func env(s types.ServiceConfig, name string) string {
	if v, ok := s.Environment[name]; ok && v != nil {
		return *v
	}
	return ""
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return port
}

func TestCompose_AgreesWithTheRoles(t *testing.T) {
	p := loadCompose(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range p.Services {
			if !yield(n) {
				return
			}
		}
	})
	if want := []string{"edge-1", "edge-2", "nats", "origin", "router", "s3", "web", "worker"}; !slices.Equal(names, want) {
		t.Fatalf("services %v, want %v", names, want)
	}
	roles := roleVars()
	listen := map[string]string{} // service → port it listens on

	s3 := p.Services["s3"]
	if i := slices.Index(s3.Command, "--port"); i < 0 || i+1 >= len(s3.Command) {
		t.Fatalf("s3 command %v has no --port", s3.Command)
	} else {
		listen["s3"] = portOf(t, s3.Command[i+1])
	}
	if len(s3.Volumes) == 0 {
		t.Error("s3 keeps its data in no volume")
	}

	for name, s := range p.Services {
		if s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 {
			t.Errorf("%s has no health check", name)
		}
		if name == "s3" {
			continue
		}
		if len(s.Command) == 0 {
			t.Fatalf("%s has no command", name)
		}
		f, ok := roles[s.Command[0]]
		if !ok {
			t.Fatalf("%s runs %q, which is not a streamfront role", name, s.Command[0])
		}
		known := map[string]bool{}
		for _, v := range f.env {
			known[v] = true
		}
		for k := range s.Environment {
			if strings.HasPrefix(k, "STREAMFRONT_") && !known[k] {
				t.Errorf("%s sets %s, which the %s role does not read", name, k, s.Command[0])
			}
		}
		addr := env(s, "STREAMFRONT_ADDR")
		if addr == "" {
			t.Fatalf("%s sets no STREAMFRONT_ADDR", name)
		}
		listen[name] = portOf(t, addr)
		if name == "nats" || name == "worker" {
			continue // internal: reached inside the network; workers scale out
		}
		published := false
		for _, port := range s.Ports {
			if port.Target != 0 && portOf(t, ":"+strconv.FormatUint(uint64(port.Target), 10)) == listen[name] {
				published = true
			}
		}
		if !published {
			t.Errorf("%s listens on %s but does not publish it", name, listen[name])
		}
	}

	// Every URL a service uses to reach another names a service and the
	// port it listens on; the viewer-facing ones name published ports.
	checkURL := func(service, variable, wantHost string) {
		u, err := url.Parse(env(p.Services[service], variable))
		if err != nil || u.Host == "" {
			t.Errorf("%s %s = %q is not a URL", service, variable, env(p.Services[service], variable))
			return
		}
		if u.Hostname() != wantHost {
			t.Errorf("%s %s points at %s, want %s", service, variable, u.Hostname(), wantHost)
		}
		if u.Port() != listen[wantHost] {
			t.Errorf("%s %s uses port %s, but %s listens on %s", service, variable, u.Port(), wantHost, listen[wantHost])
		}
	}
	checkURL("origin", "STREAMFRONT_S3_ENDPOINT", "s3")
	checkURL("worker", "STREAMFRONT_S3_ENDPOINT", "s3")
	checkURL("origin", "STREAMFRONT_NATS_URL", "nats")
	checkURL("worker", "STREAMFRONT_NATS_URL", "nats")
	for _, v := range []string{"STREAMFRONT_S3_BUCKET", "STREAMFRONT_S3_ACCESS_KEY", "STREAMFRONT_S3_SECRET_KEY"} {
		if env(p.Services["origin"], v) != env(p.Services["worker"], v) {
			t.Errorf("worker %s is not the origin's", v)
		}
	}
	checkURL("edge-1", "STREAMFRONT_ORIGIN_URL", "origin")
	checkURL("edge-2", "STREAMFRONT_ORIGIN_URL", "origin")
	checkURL("web", "STREAMFRONT_API_URL", "origin")
	media, _ := url.Parse(env(p.Services["origin"], "STREAMFRONT_MEDIA_URL"))
	if media.Port() != listen["router"] {
		t.Errorf("origin's media URL %s is not the router's published port %s", media, listen["router"])
	}
	// The router knows every edge by its name, at its published port for
	// viewers and by its service for itself.
	routed, err := steering.ParseEdges(env(p.Services["router"], "STREAMFRONT_ROUTER_EDGES"), env(p.Services["router"], "STREAMFRONT_ROUTER_EDGE_INTERNAL_URLS"))
	if err != nil {
		t.Fatalf("router edges: %v", err)
	}
	if len(routed) != 2 {
		t.Fatalf("router routes to %d edges, want edge-1 and edge-2", len(routed))
	}
	for _, e := range routed {
		s, ok := p.Services[e.Name]
		if !ok || env(s, "STREAMFRONT_EDGE_NAME") != e.Name {
			t.Errorf("router edge %q is not the name of an edge service", e.Name)
			continue
		}
		public, _ := url.Parse(e.URL)
		internal, _ := url.Parse(e.InternalURL)
		if public.Port() != listen[e.Name] {
			t.Errorf("router sends viewers to %s, but %s publishes %s", e.URL, e.Name, listen[e.Name])
		}
		if internal == nil || internal.Hostname() != e.Name || internal.Port() != listen[e.Name] {
			t.Errorf("router reaches %s at %q, want http://%s:%s", e.Name, e.InternalURL, e.Name, listen[e.Name])
		}
		if _, ok := p.Services["router"].DependsOn[e.Name]; !ok {
			t.Errorf("router does not wait for %s", e.Name)
		}
	}
	site, _ := url.Parse(env(p.Services["origin"], "STREAMFRONT_WEB_URL"))
	if site.Port() != listen["web"] {
		t.Errorf("origin's web URL %s is not the site's port %s", site, listen["web"])
	}
	if env(p.Services["origin"], "STREAMFRONT_API_KEY") == "" {
		t.Error("origin has no API key")
	}
	if env(p.Services["origin"], "STREAMFRONT_S3_ACCESS_KEY") != env(s3, "ROOT_ACCESS_KEY") ||
		env(p.Services["origin"], "STREAMFRONT_S3_SECRET_KEY") != env(s3, "ROOT_SECRET_KEY") {
		t.Error("origin's S3 credentials are not the S3 server's")
	}
	if a, b := env(p.Services["edge-1"], "STREAMFRONT_EDGE_NAME"), env(p.Services["edge-2"], "STREAMFRONT_EDGE_NAME"); a == "" || a == b {
		t.Errorf("edges need distinct names, have %q and %q", a, b)
	}
	for _, s := range []string{"edge-1", "edge-2", "web"} {
		if _, ok := p.Services[s].DependsOn["origin"]; !ok {
			t.Errorf("%s does not wait for the origin", s)
		}
	}
	for _, s := range []string{"origin", "worker"} {
		for _, dep := range []string{"s3", "nats"} {
			if _, ok := p.Services[s].DependsOn[dep]; !ok {
				t.Errorf("%s does not wait for %s", s, dep)
			}
		}
	}
}

// configOf parses a service's environment with its role's flags, as the
// role does at start (without the test process's own environment).
func configOf(t *testing.T, s types.ServiceConfig, f *flags) {
	t.Helper()
	byEnv := map[string]string{}
	for name, variable := range f.env {
		byEnv[variable] = name
	}
	var args []string
	for k, v := range s.Environment {
		if name, ok := byEnv[k]; ok && v != nil {
			args = append(args, "-"+name+"="+*v)
		}
	}
	if err := f.FlagSet.Parse(args); err != nil {
		t.Fatalf("%s: %v", s.Name, err)
	}
}

// TestCompose_AccessControlAgrees: the origin and the edges share the
// edge secret, the signing key and the admin token, and the origin's
// edge list names every edge, so private videos play, viewers cannot
// reach the origin, and deletes invalidate both edges.
func TestCompose_AccessControlAgrees(t *testing.T) {
	p := loadCompose(t)
	var lvl string
	var oc origin.Config
	configOf(t, p.Services["origin"], originFlags(&oc, &lvl, io.Discard))
	if oc.EdgeSecret == "" || oc.EdgeAdminToken == "" || oc.SigningKeyID == "" {
		t.Fatalf("origin lacks access settings: secret %t, admin token %t, key ID %q", oc.EdgeSecret != "", oc.EdgeAdminToken != "", oc.SigningKeyID)
	}
	if err := urlsign.CheckKey(oc.SigningKeyID, oc.SigningKey); err != nil {
		t.Fatalf("origin signing key: %v", err)
	}
	token, err := urlsign.Sign(urlsign.Policy{Resource: "/videos/abc/", Expires: time.Now().Add(time.Hour)},
		urlsign.Key{ID: oc.SigningKeyID, Secret: oc.SigningKey})
	if err != nil {
		t.Fatal(err)
	}

	listed := map[string]bool{}
	for _, e := range oc.Edges {
		u, err := url.Parse(e)
		if err != nil || u.Host == "" {
			t.Fatalf("origin STREAMFRONT_EDGES entry %q is not a URL", e)
		}
		s, ok := p.Services[u.Hostname()]
		if !ok || len(s.Command) == 0 || s.Command[0] != "edge" {
			t.Fatalf("origin STREAMFRONT_EDGES entry %q names no edge service", e)
		}
		if port := portOf(t, env(s, "STREAMFRONT_ADDR")); u.Port() != port {
			t.Errorf("origin STREAMFRONT_EDGES entry %q: %s listens on %s", e, u.Hostname(), port)
		}
		listed[u.Hostname()] = true
	}
	for name, s := range p.Services {
		if len(s.Command) == 0 || s.Command[0] != "edge" {
			continue
		}
		if !listed[name] {
			t.Errorf("origin STREAMFRONT_EDGES does not list %s: deletes would not reach it", name)
		}
		var ec edge.Config
		configOf(t, s, edgeFlags(&ec, &lvl, &lvl, io.Discard))
		if ec.OriginSecret != oc.EdgeSecret {
			t.Errorf("%s STREAMFRONT_ORIGIN_SECRET is not the origin's STREAMFRONT_EDGE_SECRET", name)
		}
		if ec.AdminToken != oc.EdgeAdminToken {
			t.Errorf("%s STREAMFRONT_ADMIN_TOKEN is not the origin's STREAMFRONT_EDGE_ADMIN_TOKEN", name)
		}
		if _, err := urlsign.Verify(token, "/videos/abc/master.m3u8", netip.Addr{}, time.Now(), ec.SigningKeys); err != nil {
			t.Errorf("%s cannot verify the origin's signed URLs (STREAMFRONT_SIGNING_KEYS): %v", name, err)
		}
	}
}
