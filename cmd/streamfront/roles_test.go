package main

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	meter "github.com/streamfront/streamfront/internal/usage"
)

// A setting comes from the file, then the environment, then the flags.
func TestRoleSetup_FlagsOverrideVariablesOverrideTheFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "d.yaml")
	if err := os.WriteFile(file, []byte(`
queue: {url: "nats://q:4222", ack_wait: 45s}
edges:
  - {name: edge-a, url: "http://a.example.com", addr: ":9001"}
  - {name: edge-b, url: "http://b.example.com", addr: ":9002", shields: [edge-a]}
edge:
  behaviors:
    - {pattern: "/videos/**.m3u8", max_ttl: 10s, query_keys: []}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"STREAMFRONT_CONFIG": file, "STREAMFRONT_EDGE_NAME": "edge-b", "STREAMFRONT_ADDR": ":9100"}
	env := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }

	s, err := edgeSetup([]string{"-memory-size", "64MiB"}, io.Discard, env)
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.Name != "edge-b" || s.cfg.Addr != ":9100" || s.cfg.MemoryBytes != 64<<20 {
		t.Errorf("edge-b: name %q addr %q memory %d; want the variable's address and the flag's size", s.cfg.Name, s.cfg.Addr, s.cfg.MemoryBytes)
	}
	if len(s.cfg.Shields) != 1 || s.cfg.Shields[0] != "http://a.example.com" {
		t.Errorf("edge-b shields %v, want edge-a's URL", s.cfg.Shields)
	}
	if b := s.cfg.Behaviors; len(b) != 1 || b[0].MaxTTL != 10*time.Second || b[0].QueryKeys == nil {
		t.Errorf("behaviors %+v", b)
	}
	w, _, err := workerSetup([]string{"-job-ack-wait", "1m"}, io.Discard, env)
	if err != nil || w.Queue.AckWait != time.Minute || w.Queue.URL != "nats://q:4222" {
		t.Errorf("worker queue %+v, %v: want the file's URL and the flag's ack wait", w.Queue, err)
	}

	// Usage metering: on by default through the file's queue, and the flags
	// move it or turn it off.
	if ds, ok := s.cfg.UsageSink.(*meter.DialQueueSink); !ok || ds.Queue.URL != "nats://q:4222" || ds.Queue.Name != "edge-b" || s.cfg.UsageInterval != 10*time.Second {
		t.Errorf("edge-b usage sink %+v every %v: want the file's queue as edge-b every 10s", s.cfg.UsageSink, s.cfg.UsageInterval)
	}
	s, err = edgeSetup([]string{"-nats-url", "nats://other:4222", "-usage-interval", "2s"}, io.Discard, env)
	if ds, ok := s.cfg.UsageSink.(*meter.DialQueueSink); err != nil || !ok || ds.Queue.URL != "nats://other:4222" || s.cfg.UsageInterval != 2*time.Second {
		t.Errorf("usage with -nats-url and -usage-interval: %+v every %v, %v", s.cfg.UsageSink, s.cfg.UsageInterval, err)
	}
	if s, err = edgeSetup([]string{"-usage=false"}, io.Discard, env); err != nil || s.cfg.UsageSink != nil {
		t.Errorf("-usage=false still meters: %+v, %v", s.cfg.UsageSink, err)
	}

	vars["STREAMFRONT_EDGE_NAME"] = "edge-z"
	if _, err := edgeSetup(nil, io.Discard, env); err == nil || !strings.Contains(err.Error(), `edge "edge-z" is not in the file's edges`) {
		t.Errorf("an edge the file does not list: %v", err)
	}
}

// An edge of a file with web.url serves the site distribution; -origin
// moves its origin; -cache-all=false turns caching of other paths off.
func TestEdgeSetup_OriginFlagMovesTheSiteDistributionsOrigin(t *testing.T) {
	file := filepath.Join(t.TempDir(), "d.yaml")
	if err := os.WriteFile(file, []byte(`
origin: {url: "http://origin:8090"}
web: {url: "http://web:8080"}
edges:
  - {name: edge-a, url: "http://a.example.com"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(k string) (string, bool) {
		return map[string]string{"STREAMFRONT_CONFIG": file}[k], k == "STREAMFRONT_CONFIG"
	}
	for _, tc := range []struct {
		args       []string
		wantOrigin string
	}{
		{nil, "http://origin:8090"},
		{[]string{"-origin", "http://elsewhere:9000"}, "http://elsewhere:9000"},
		{[]string{"-cache-all"}, "http://origin:8090"},
		{[]string{"-cache-all=false"}, "http://origin:8090"},
	} {
		s, err := edgeSetup(tc.args, io.Discard, env)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if err := s.cfg.Check(); err != nil {
			t.Fatalf("%v: the edge refuses its configuration: %v", tc.args, err)
		}
		if len(s.cfg.Distributions) != 1 || s.cfg.Distributions[0].Origins[0].URL != tc.wantOrigin ||
			s.cfg.Distributions[0].Origins[1].URL != "http://web:8080" {
			t.Errorf("%v: distributions %+v, want the site's with origin %s", tc.args, s.cfg.Distributions, tc.wantOrigin)
		}
		if want := slices.Contains(tc.args, "-cache-all=false"); len(s.cfg.Distributions) == 1 && s.cfg.Distributions[0].DisableCacheAll != want {
			t.Errorf("%v: the site distribution's DisableCacheAll is %v, want %v", tc.args, s.cfg.Distributions[0].DisableCacheAll, want)
		}
	}
}

func TestNewLogger_RefusesAnUnknownLevel(t *testing.T) {
	if _, err := newLogger(io.Discard, "loud"); err == nil {
		t.Error("log level \"loud\" accepted")
	}
}

func TestWarnUnread_NamesARetiredVariable(t *testing.T) {
	t.Setenv("STREAMFRONT_ORIGIN_SECRET", "old-name")
	t.Setenv("STREAMFRONT_EDGE_SECRET", "new-name")
	var buf bytes.Buffer
	warnUnread(slog.New(slog.NewTextHandler(&buf, nil)), "edge", nil)
	if !strings.Contains(buf.String(), "variable=STREAMFRONT_ORIGIN_SECRET") {
		t.Errorf("no warning for a variable the edge does not read:\n%s", buf.String())
	}
	if strings.Contains(buf.String(), "variable=STREAMFRONT_EDGE_SECRET") {
		t.Errorf("a warning for a variable the edge reads:\n%s", buf.String())
	}
}
