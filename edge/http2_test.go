package edge

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEdge_SpeaksHTTP2WithPriorKnowledge(t *testing.T) {
	o := newTestOrigin(t)
	o.put("/videos/v1/hls/src/video.m3u8", &testObject{body: []byte("#EXTM3U\n"), contentType: "application/vnd.apple.mpegurl", cacheControl: "public, max-age=60"})
	_, base := startEdge(t, o.URL(), nil)
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &p}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr}
	for i, want := range []string{"Miss", "Hit"} {
		resp, err := c.Get(base + "/videos/v1/hls/src/video.m3u8")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Proto != "HTTP/2.0" || !strings.HasPrefix(resp.Header.Get("X-Cache"), want) || string(body) != "#EXTM3U\n" {
			t.Fatalf("request %d: %s, X-Cache %q, body %q", i, resp.Proto, resp.Header.Get("X-Cache"), body)
		}
	}
}

func TestEdge_RunServesHTTPSWithHTTP2(t *testing.T) {
	o := newTestOrigin(t)
	o.put("/videos/v1/hls/src/video.m3u8", &testObject{body: []byte("#EXTM3U\n"), contentType: "application/vnd.apple.mpegurl", cacheControl: "public, max-age=60"})
	certFile, keyFile, pool := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	e, err := New(Config{Name: "tls-edge", Addr: addr, Origin: o.URL(), TLSCertFile: certFile, TLSKeyFile: keyFile, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done //nolint:errcheck // the server's end; the test judged what it served
	})
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var resp *http.Response
	waitFor(t, "the TLS edge to listen", func() bool {
		resp, err = c.Get("https://" + addr + "/videos/v1/hls/src/video.m3u8")
		return err == nil
	})
	resp.Body.Close()
	if resp.Proto != "HTTP/2.0" || resp.StatusCode != http.StatusOK || resp.Header.Get("X-Edge") != "tls-edge" {
		t.Fatalf("got %s %d X-Edge %q", resp.Proto, resp.StatusCode, resp.Header.Get("X-Edge"))
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "edge test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
