package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/streamfront/streamfront/edge/cachetests"
)

// CacheTestsConfig configures CacheTests.
type CacheTestsConfig struct {
	// Streamfront is the streamfront binary. It defaults to
	// "bin/streamfront".
	Streamfront string
	// SuiteDir is the folder holding the suite (package.json, serve.mjs,
	// run.mjs, node_modules). It defaults to "edge/cachetests".
	SuiteDir string
	// OutDir receives each cache's results as <cache>.json, and table.md.
	// It defaults to "bench/out/cachetests".
	OutDir string
	// Parallel runs the caches all at once instead of one after another
	// (about 45 s instead of 75 s here). It is off by default because it
	// changes the figures: with four clients at once, Varnish's default
	// setup drops connections (18 of its required tests then fail with
	// "socket hang up" on the suite's own PUT /config).
	Parallel bool
	// KeepTemp keeps the temporary directory (configs, logs).
	KeepTemp bool
}

// cacheTestsRun is one column of the comparison: a cache and the base URL
// the suite's client is pointed at.
type cacheTestsRun struct {
	name, base string
	results    []cachetests.Result
	took       time.Duration
	err        error
}

// CacheTests runs http-cache-tests against our edge (its default distribution, at the
// root and under /videos/), nginx proxy_cache and Varnish with its
// default VCL, all in front of one suite server, and writes the table of
// required and optional outcomes to w. Each cache is a separate process
// listening on loopback, stopped when the run ends.
func CacheTests(ctx context.Context, cfg CacheTestsConfig, w, logw io.Writer) error {
	if cfg.Streamfront == "" {
		cfg.Streamfront = "bin/streamfront"
	}
	if cfg.SuiteDir == "" {
		cfg.SuiteDir = "edge/cachetests"
	}
	if cfg.OutDir == "" {
		cfg.OutDir = "bench/out/cachetests"
	}
	bin, err := filepath.Abs(cfg.Streamfront)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "streamfront-cachetests-")
	if err != nil {
		return err
	}
	if cfg.KeepTemp {
		fmt.Fprintf(logw, "keeping %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	// One suite server for every cache; "/videos" is stripped so the edge
	// can also be measured on the only prefix it caches today.
	srv, err := cachetests.StartServer(ctx, cfg.SuiteDir, "/videos")
	if err != nil {
		return err
	}
	defer srv.Close()
	suitePort, err := strconv.Atoi(srv.URL[strings.LastIndexByte(srv.URL, ':')+1:])
	if err != nil {
		return fmt.Errorf("suite server URL %s: %w", srv.URL, err)
	}

	edge, err := startEdge(ctx, "edge-cachetests", dir, bin, srv.URL, 256<<20, "", placement{})
	if err != nil {
		return err
	}
	defer edge.stop()
	nginx, err := startNginxCacheTests(ctx, dir, suitePort)
	if err != nil {
		return err
	}
	defer nginx.proc.stop()
	varnish, err := startVarnishDefault(ctx, dir, suitePort)
	if err != nil {
		return err
	}
	defer varnish.proc.stop()

	runs := []*cacheTestsRun{
		{name: "Streamfront edge (paths at the root: RFC 9111)", base: edge.URL},
		{name: "Streamfront edge (paths under /videos/: video policy)", base: edge.URL + "/videos"},
		{name: "nginx proxy_cache", base: nginx.URL},
		{name: "Varnish (default VCL)", base: varnish.URL},
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, r := range runs {
		run := func() {
			t0 := time.Now()
			r.results, r.err = cachetests.Run(ctx, cfg.SuiteDir, r.base)
			r.took = time.Since(t0)
			fmt.Fprintf(logw, "%s: %s\n", r.name, r.took.Round(100*time.Millisecond))
		}
		if cfg.Parallel {
			wg.Go(run)
		} else {
			run()
		}
	}
	wg.Wait()
	took := time.Since(start)

	var errs []error
	var rows []cachetests.Row
	for _, r := range runs {
		if r.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.name, r.err))
			continue
		}
		rows = append(rows, cachetests.Row{Cache: r.name, Summary: cachetests.Summarize(r.results)})
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var table strings.Builder
	fmt.Fprintf(&table, "http-cache-tests 0.4.5, one suite server, the caches run %s; %s in all.\n\n",
		map[bool]string{false: "one after another", true: "at once"}[cfg.Parallel], took.Round(time.Second))
	if err := cachetests.WriteTable(&table, rows); err != nil {
		return err
	}
	if _, err := io.WriteString(w, table.String()); err != nil {
		return err
	}
	return writeCacheTestsOut(cfg.OutDir, runs, table.String())
}

// writeCacheTestsOut keeps each run's results (for reading failures one by
// one) and the table.
func writeCacheTestsOut(outDir string, runs []*cacheTestsRun, table string) error {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	files := []string{"edge-root", "edge-videos", "nginx", "varnish"}
	for i, r := range runs {
		b, err := json.MarshalIndent(r.results, "", " ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(outDir, files[i]+".json"), b, 0o644); err != nil {
			return err
		}
		var f strings.Builder
		if err := cachetests.WriteFailures(&f, r.results); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(outDir, files[i]+"-failures.txt"), []byte(f.String()), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(outDir, "table.md"), []byte(table), 0o644)
}

// nginxCacheTestsConf is the smallest nginx proxy_cache in front of the
// suite server: every path cached by the origin's headers (no
// proxy_cache_valid, no overrides) and revalidated with conditional
// requests, as a general-purpose cache would be configured. Unlike bench/nginx.go's video configuration it has no
// location of its own.
var nginxCacheTestsConf = template.Must(template.New("nginx.conf").Parse(`# Generated by bench/cachetests.go.
daemon off;
master_process on;
user root;
worker_processes 1;
pid {{.Dir}}/nginx.pid;
error_log {{.Dir}}/error.log warn;

events {
    worker_connections 1024;
}

http {
    access_log off;
    client_body_temp_path {{.Dir}}/client_body;
    proxy_temp_path {{.Dir}}/proxy_temp;
    fastcgi_temp_path {{.Dir}}/fastcgi_temp;
    uwsgi_temp_path {{.Dir}}/uwsgi_temp;
    scgi_temp_path {{.Dir}}/scgi_temp;

    proxy_cache_path {{.Dir}}/cache levels=1:2 keys_zone=cachetests:8m use_temp_path=off;

    server {
        listen 127.0.0.1:{{.Port}};

        location / {
            proxy_pass http://127.0.0.1:{{.OriginPort}};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_cache cachetests;
            # Without it nginx refetches an expired response whole instead
            # of revalidating it, and every 304 test cannot be set up.
            proxy_cache_revalidate on;
        }
    }
}
`))

// startNginxCacheTests runs nginx with nginxCacheTestsConf in dir/nginx-cachetests.
func startNginxCacheTests(ctx context.Context, dir string, originPort int) (*cacheServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	ndir := filepath.Join(dir, "nginx-cachetests")
	if err := os.MkdirAll(ndir, 0o755); err != nil {
		return nil, err
	}
	var conf strings.Builder
	if err := nginxCacheTestsConf.Execute(&conf, map[string]any{"Dir": ndir, "Port": port, "OriginPort": originPort}); err != nil {
		return nil, fmt.Errorf("nginx config: %w", err)
	}
	confPath := filepath.Join(ndir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf.String()), 0o644); err != nil {
		return nil, err
	}
	p, err := startProcess("nginx-cachetests", dir, placement{}, nil, "nginx", "-p", ndir, "-c", confPath, "-e", filepath.Join(ndir, "error.log"))
	if err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	if err := p.waitHTTP(ctx, base+"/", nil); err != nil {
		p.stop()
		return nil, err
	}
	return &cacheServer{name: "nginx", URL: base, proc: p}, nil
}

// startVarnishDefault runs varnishd with its built-in VCL (-b names the
// backend; no VCL of ours) and a malloc store, unjailed in a private -n
// dir as bench/varnish.go does.
func startVarnishDefault(ctx context.Context, dir string, originPort int) (*cacheServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	vdir := filepath.Join(dir, "varnish-cachetests")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p, err := startProcess("varnish-cachetests", dir, placement{}, nil, "varnishd", "-F", "-j", "none",
		"-a", addr, "-b", "127.0.0.1:"+strconv.Itoa(originPort), "-s", "malloc,256m", "-n", filepath.Join(vdir, "work"), "-T", "none")
	if err != nil {
		return nil, err
	}
	base := "http://" + addr
	if err := p.waitHTTP(ctx, base+"/", nil); err != nil {
		p.stop()
		return nil, err
	}
	return &cacheServer{name: "varnish", URL: base, proc: p}, nil
}
