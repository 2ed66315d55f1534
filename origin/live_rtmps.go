package origin

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// RTMPS is RTMP inside TLS (OBS's and Cloudflare's "rtmps://…:443"),
// for broadcasters on networks that must not show the stream key. The
// manager serves it like RTMP: the TLS listener hands it connections whose
// handshake runs on their first read, under the RTMP handshake's deadline.

// certificateFiles serves the certificate in CertFile and KeyFile, read
// again when either file changes, so a renewed certificate (certbot,
// cert-manager) is used without a restart. Encoders connect rarely, so a
// stat per handshake costs nothing.
type certificateFiles struct {
	certFile, keyFile string

	mu       sync.Mutex
	cert     *tls.Certificate
	modTimes [2]time.Time
}

func newCertificateFiles(certFile, keyFile string) (*certificateFiles, error) {
	c := &certificateFiles{certFile: certFile, keyFile: keyFile}
	if _, err := c.get(); err != nil {
		return nil, err
	}
	return c, nil
}

// get returns the certificate, loading it again when a file changed. A
// renewed pair that does not load (written halfway, a key that does not
// match) keeps the last good certificate in use and fails nothing.
func (c *certificateFiles) get() (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var mt [2]time.Time
	for i, f := range []string{c.certFile, c.keyFile} {
		fi, err := os.Stat(f)
		if err != nil {
			if c.cert != nil {
				return c.cert, nil
			}
			return nil, fmt.Errorf("origin: live: RTMPS certificate: %w", err)
		}
		mt[i] = fi.ModTime()
	}
	if c.cert != nil && mt == c.modTimes {
		return c.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		if c.cert != nil {
			return c.cert, nil
		}
		return nil, fmt.Errorf("origin: live: RTMPS certificate %s with key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert, c.modTimes = &cert, mt
	return c.cert, nil
}

// tlsConfig is the RTMPS server's TLS: TLS 1.2 or newer (what OBS and
// ffmpeg's OpenSSL and GnuTLS builds speak).
func (c *certificateFiles) tlsConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.get()
		},
	}
}

// listenRTMPS opens the RTMPS port (or wraps the configured listener).
func (l *liveService) listenRTMPS(ctx context.Context) (net.Listener, error) {
	ln := l.cfg.RTMPSListener
	if ln == nil {
		var lc net.ListenConfig
		var err error
		if ln, err = lc.Listen(ctx, "tcp", l.cfg.RTMPSAddr); err != nil {
			return nil, fmt.Errorf("origin: live: listen for RTMPS on %s: %w", l.cfg.RTMPSAddr, err)
		}
	}
	return tls.NewListener(ln, l.certs.tlsConfig()), nil
}
