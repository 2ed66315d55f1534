package edge

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streamfront/streamfront/internal/testenv"
)

// get sends a GET with the given Host and returns status, X-Cache and body.
func getHost(t *testing.T, base, host, path string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("X-Cache"), string(body)
}

// An S3 origin is read with SigV4: the bucket refuses anonymous reads, the
// edge serves (and caches) its objects; another distribution on the same
// edge, chosen by Host, serves the same path from an HTTP origin.
func TestDistributions_S3OriginAndHosts(t *testing.T) {
	s := testenv.StartS3(t)
	ctx := context.Background()
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("site")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("site"), Key: aws.String("www/index.html"), Body: strings.NewReader("<h1>from S3</h1>"),
		ContentType: aws.String("text/html"), CacheControl: aws.String("public, max-age=60"),
	}); err != nil {
		t.Fatal(err)
	}
	// The bucket refuses anonymous reads.
	if resp, err := http.Get(s.Endpoint + "/site/www/index.html"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("anonymous GET of the object: %d, want 403", resp.StatusCode)
		}
	}

	o := newTestOrigin(t)
	o.put("/index.html", &testObject{body: []byte("<h1>from HTTP</h1>"), cacheControl: "max-age=60"})
	o.put("/api/v1/x", &testObject{body: []byte(`{"api":true}`), cacheControl: "max-age=60"})

	_, base := startEdge(t, "", func(c *Config) {
		c.Origin = ""
		c.Distributions = []Distribution{
			{Name: "web", Origins: []Origin{{Name: "web", URL: o.URL()}}, Behaviors: []Behavior{
				{Pattern: "/api/**", Policy: PolicyPass},
			}},
			{Name: "bucket", Hosts: []string{"static.example"}, Origins: []Origin{{Name: "s3", S3: &S3Origin{
				Bucket: "site", Endpoint: s.Endpoint, Prefix: "www", AccessKey: s.AccessKey, SecretKey: s.SecretKey,
			}}}},
		}
	})

	for i, want := range []string{"Miss", "Hit"} {
		status, xc, body := getHost(t, base, "static.example:8081", "/index.html")
		if status != http.StatusOK || body != "<h1>from S3</h1>" || !strings.HasPrefix(xc, want) {
			t.Fatalf("S3 distribution, request %d: %d %q %q, want 200 %s from S3", i+1, status, xc, body, want)
		}
	}
	for i, want := range []string{"Miss", "Hit"} {
		status, xc, body := getHost(t, base, "", "/index.html")
		if status != http.StatusOK || body != "<h1>from HTTP</h1>" || !strings.HasPrefix(xc, want) {
			t.Fatalf("default distribution, request %d: %d %q %q, want 200 %s from the HTTP origin", i+1, status, xc, body, want)
		}
	}
	// A pass behaviour: never a hit.
	for range 2 {
		if status, xc, _ := getHost(t, base, "", "/api/v1/x"); status != http.StatusOK || strings.HasPrefix(xc, "Hit") {
			t.Fatalf("/api/ with policy pass: %d %q", status, xc)
		}
	}
	if status, _, _ := getHost(t, base, "static.example", "/missing.html"); status != http.StatusForbidden && status != http.StatusNotFound {
		t.Errorf("missing S3 object: %d, want 403 or 404", status)
	}
}

func TestDistributions_ConfigMistakes(t *testing.T) {
	for _, c := range []struct {
		name string
		ds   []Distribution
		want string
	}{
		{"two defaults", []Distribution{{Name: "a", Origins: []Origin{{Name: "o", URL: "http://x"}}}, {Name: "b", Origins: []Origin{{Name: "o", URL: "http://y"}}}}, "only one distribution can be the default"},
		{"unknown origin", []Distribution{{Name: "a", Origins: []Origin{{Name: "o", URL: "http://x"}}, Behaviors: []Behavior{{Pattern: "/x/**", Origin: "nope"}}}}, `origin "nope" is not one of the distribution's origins`},
		{"s3 without keys", []Distribution{{Name: "a", Origins: []Origin{{Name: "o", S3: &S3Origin{Bucket: "b"}}}}}, "needs a bucket, an access key and a secret key"},
	} {
		err := Config{Name: "e", Distributions: c.ds}.Check()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want it to say %q", c.name, err, c.want)
		}
	}
}

// FuzzFastHost holds the fast path's choice of distribution by Host
// (forFastHost, on the bytes it read) to net/http's (forHost): where the
// fast path judges a host at all, it picks the same distribution.
func FuzzFastHost(f *testing.F) {
	for _, h := range []string{"", "media.example", "media.example:8081", "MEDIA.example", "[::1]:80", "[::1]", "a:b:c", "media.example.", "x"} {
		f.Add(h)
	}
	cfg := Config{Name: "e", Distributions: []Distribution{
		{Name: "site", Origins: []Origin{{Name: "o", URL: "http://127.0.0.1:9"}}},
		{Name: "media", Hosts: []string{"media.example", "127.0.0.1"}, Origins: []Origin{{Name: "o", URL: "http://127.0.0.1:9"}}},
	}}
	ds, err := compileDistributions(cfg, ttlPolicy{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, host string) {
		if d, ok := ds.forFastHost([]byte(host)); ok && d != ds.forHost(host) {
			t.Fatalf("host %q: fast path picks %s, net/http %s", host, d.name, ds.forHost(host).name)
		}
	})
}
