package main

import (
	"context"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

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

func env(s types.ServiceConfig, name string) string {
	if v, ok := s.Environment[name]; ok && v != nil {
		return *v
	}
	return ""
}

// fileVars are the variables the deployment file refers to (${NAME}).
func fileVars(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "streamfront.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(string(data), -1) {
		vars[m[1]] = true
	}
	return vars
}

// serviceEnv is what a service's process sees: its environment, with the
// deployment file at the path compose mounts it on found in the
// repository.
func serviceEnv(t *testing.T, s types.ServiceConfig) getenv {
	t.Helper()
	const mounted = "/etc/streamfront/streamfront.yaml"
	if env(s, configEnv) != mounted {
		t.Fatalf("%s: %s is %q, want %s", s.Name, configEnv, env(s, configEnv), mounted)
	}
	found := false
	for _, v := range s.Volumes {
		if v.Target == mounted && filepath.Base(v.Source) == "streamfront.yaml" {
			found = true
		}
	}
	if !found {
		t.Fatalf("%s does not mount streamfront.yaml at %s", s.Name, mounted)
	}
	file := filepath.Join(testenv.RepoRoot(t), "streamfront.yaml")
	return func(name string) (string, bool) {
		if name == configEnv {
			return file, true
		}
		v, ok := s.Environment[name]
		if !ok || v == nil {
			return "", false
		}
		return *v, true
	}
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("address %q: %v", addr, err)
	}
	return port
}

// composed is every service's role configuration, built by the roles'
// own setup functions from the file and the service's environment.
type composed struct {
	p      *types.Project
	origin origin.Config
	worker origin.WorkerConfig
	edges  map[string]edgeSetting
	router steering.Config
	web    web.Config
	nats   natsSetting
}

func compose(t *testing.T) composed {
	t.Helper()
	p := loadCompose(t)
	c := composed{p: p, edges: map[string]edgeSetting{}}
	var err error
	for name, s := range p.Services {
		if name == "s3" {
			continue
		}
		if len(s.Command) == 0 {
			t.Fatalf("%s has no command", name)
		}
		e := serviceEnv(t, s)
		switch s.Command[0] {
		case "origin":
			c.origin, _, err = originSetup(nil, io.Discard, e)
		case "worker":
			c.worker, _, err = workerSetup(nil, io.Discard, e)
		case "edge":
			c.edges[name], err = edgeSetup(nil, io.Discard, e)
		case "router":
			c.router, _, err = routerSetup(nil, io.Discard, e)
		case "web":
			c.web, _, err = webSetup(nil, io.Discard, e)
		case "nats":
			c.nats, err = natsSetup(nil, io.Discard, e)
		default:
			t.Fatalf("%s runs %q, which is not a streamfront role", name, s.Command[0])
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return c
}

func TestCompose_AgreesWithTheRoles(t *testing.T) {
	c := compose(t)
	p := c.p
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
	roles, vars := roleVars(), fileVars(t)
	listen := map[string]string{ // service → port it listens on
		"origin": portOf(t, c.origin.Addr), "worker": portOf(t, c.worker.Addr), "router": portOf(t, c.router.Addr),
		"web": portOf(t, c.web.Addr), "nats": portOf(t, c.nats.addr),
	}
	for name, e := range c.edges {
		listen[name] = portOf(t, e.cfg.Addr)
		if e.cfg.Name != name {
			t.Errorf("service %s runs edge %q", name, e.cfg.Name)
		}
		if e.cfg.CacheDir == "" {
			t.Errorf("%s keeps no disk cache", name)
		}
	}
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
		known := map[string]bool{}
		for _, v := range roles[s.Command[0]].env {
			known[v] = true
		}
		for k := range s.Environment {
			if !known[k] && !vars[k] {
				t.Errorf("%s sets %s, which neither the %s role nor streamfront.yaml reads", name, k, s.Command[0])
			}
		}
		if name == "nats" || name == "worker" || name == "web" {
			continue // internal: reached inside the network (the site through the edges); workers scale out
		}
		published := false
		for _, port := range s.Ports {
			if strconv.FormatUint(uint64(port.Target), 10) == listen[name] {
				published = true
			}
		}
		if !published {
			t.Errorf("%s listens on %s but does not publish it", name, listen[name])
		}
	}
	// Broadcasters reach the origin's RTMP port from outside.
	rtmp := false
	for _, port := range p.Services["origin"].Ports {
		rtmp = rtmp || (port.Target == 1935 && port.Published == "1935")
	}
	if !rtmp {
		t.Errorf("the origin does not publish the RTMP port 1935: %v", p.Services["origin"].Ports)
	}

	// Every URL a service uses to reach another names a service and the
	// port it listens on; the viewer-facing ones name published ports.
	checkURL := func(service, what, raw, wantHost string) {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			t.Errorf("%s %s = %q is not a URL", service, what, raw)
			return
		}
		if u.Hostname() != wantHost {
			t.Errorf("%s %s points at %s, want %s", service, what, u.Hostname(), wantHost)
		}
		if u.Port() != listen[wantHost] {
			t.Errorf("%s %s uses port %s, but %s listens on %s", service, what, u.Port(), wantHost, listen[wantHost])
		}
	}
	checkURL("origin", "s3.endpoint", c.origin.S3.Endpoint, "s3")
	checkURL("worker", "s3.endpoint", c.worker.S3.Endpoint, "s3")
	checkURL("origin", "queue.url", c.origin.Queue.URL, "nats")
	checkURL("worker", "queue.url", c.worker.Queue.URL, "nats")
	if c.origin.S3 != c.worker.S3 || c.origin.Queue.AckWait != c.worker.Queue.AckWait {
		t.Errorf("the worker's S3 or queue is not the origin's")
	}
	// Every edge serves the site: its API and media from the origin, the
	// rest from web, which it waits for.
	for name, e := range c.edges {
		if len(e.cfg.Distributions) != 1 || len(e.cfg.Distributions[0].Origins) != 2 {
			t.Errorf("%s serves %+v, want the site distribution (web.url)", name, e.cfg.Distributions)
			continue
		}
		for _, o := range e.cfg.Distributions[0].Origins {
			checkURL(name, "the site distribution's "+o.Name, o.URL, map[string]string{"origin": "origin", "web": "web"}[o.Name])
		}
		if _, ok := p.Services[name].DependsOn["web"]; !ok {
			t.Errorf("%s does not wait for web, whose pages it serves", name)
		}
	}
	if len(p.Services["web"].Ports) > 0 {
		t.Errorf("web publishes %v: viewers reach the site through the edges", p.Services["web"].Ports)
	}
	checkURL("web", "origin.url", c.web.APIURL, "origin")
	for what, raw := range map[string]string{"site.media_url": c.origin.MediaURL, "site.web_url": c.origin.WebURL, "web's public URL": c.web.PublicURL} {
		u, _ := url.Parse(raw)
		want := map[string]string{"site.media_url": "router", "site.web_url": "edge-1", "web's public URL": "edge-1"}[what]
		if u == nil || u.Port() != listen[want] {
			t.Errorf("%s %s is not the %s's published port %s", what, raw, want, listen[want])
		}
	}
	// The router knows every edge by its name, at its published port for
	// viewers and by its service for itself.
	if len(c.router.Edges) != len(c.edges) {
		t.Fatalf("router routes to %d edges, compose runs %d", len(c.router.Edges), len(c.edges))
	}
	for _, e := range c.router.Edges {
		if _, ok := c.edges[e.Name]; !ok {
			t.Errorf("router edge %q is not the name of an edge service", e.Name)
			continue
		}
		public, _ := url.Parse(e.URL)
		if public.Port() != listen[e.Name] {
			t.Errorf("router sends viewers to %s, but %s publishes %s", e.URL, e.Name, listen[e.Name])
		}
		checkURL("router", e.Name+" internal_url", e.InternalURL, e.Name)
		if _, ok := p.Services["router"].DependsOn[e.Name]; !ok {
			t.Errorf("router does not wait for %s", e.Name)
		}
	}
	if c.origin.APIKey == "" {
		t.Error("origin has no API key")
	}
	if c.origin.S3.AccessKey != env(s3, "ROOT_ACCESS_KEY") || c.origin.S3.SecretKey != env(s3, "ROOT_SECRET_KEY") {
		t.Error("origin's S3 credentials are not the S3 server's")
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

// TestCompose_AccessControlAgrees: the origin and the edges share the
// edge secret, the signing key and the admin token, and the origin's
// edge list names every edge, so private videos play, viewers cannot
// reach the origin, and deletes invalidate both edges.
func TestCompose_AccessControlAgrees(t *testing.T) {
	c := compose(t)
	oc := c.origin
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
			t.Fatalf("origin's edge %q is not a URL", e)
		}
		ec, ok := c.edges[u.Hostname()]
		if !ok {
			t.Fatalf("origin's edge %q names no edge service", e)
		}
		if port := portOf(t, ec.cfg.Addr); u.Port() != port {
			t.Errorf("origin's edge %q: %s listens on %s", e, u.Hostname(), port)
		}
		listed[u.Hostname()] = true
	}
	for name, ec := range c.edges {
		if !listed[name] {
			t.Errorf("the origin does not invalidate %s: deletes would not reach it", name)
		}
		if ec.cfg.OriginSecret != oc.EdgeSecret {
			t.Errorf("%s's edge secret is not the origin's", name)
		}
		if ec.cfg.AdminToken != oc.EdgeAdminToken {
			t.Errorf("%s's admin token is not the one the origin invalidates with", name)
		}
		if _, err := urlsign.Verify(token, "/videos/abc/master.m3u8", netip.Addr{}, time.Now(), ec.cfg.SigningKeys); err != nil {
			t.Errorf("%s cannot verify the origin's signed URLs: %v", name, err)
		}
	}
}
