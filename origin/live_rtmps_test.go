package origin_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamfront/streamfront/origin"
)

// writeSelfSigned writes a fresh self-signed certificate for 127.0.0.1
// and its key as PEM files, and returns the certificate's serial number.
func writeSelfSigned(t *testing.T, certFile, keyFile string) *big.Int {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: "streamfront test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// The key first, then the certificate: a reader that sees the new
	// certificate beside the old key keeps the old pair.
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return serial
}

// servedSerial is the serial number of the certificate the RTMPS port
// shows now.
func servedSerial(t *testing.T, addr string) *big.Int {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // a self-signed test certificate; only its serial is read
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber
}

// A broadcaster pushes over RTMPS (RTMP in TLS) to the rtmps_url the API
// gives, and the stream goes live. A plain RTMP client on the RTMPS port
// is turned away without harm, and a renewed certificate is served
// without a restart.
func TestLive_RTMPS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "live.crt"), filepath.Join(dir, "live.key")
	first := writeSelfSigned(t, certFile, keyFile)
	rtmpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rtmpsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rtmpsAddr := rtmpsLn.Addr().String()
	b := startBackend(t)
	base := startOriginOn(t, b, 0, func(c *origin.Config, _ *origin.WorkerConfig) {
		c.Live = &origin.LiveConfig{RTMPListener: rtmpLn, RTMPSListener: rtmpsLn,
			TLSCertFile: certFile, TLSKeyFile: keyFile, ReconnectWindow: 2 * time.Second}
	}).URL

	code, _, body := liveCall(t, http.MethodPost, base+"/api/v1/live", `{"record": false}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	var created struct {
		ID       string `json:"id"`
		RTMPSURL string `json:"rtmps_url"`
		Key      string `json:"stream_key"`
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil {
		t.Fatal(err)
	}
	if want := "rtmps://" + rtmpsAddr + "/live/" + created.Key; created.RTMPSURL != want {
		t.Fatalf("rtmps_url is %q, want %q", created.RTMPSURL, want)
	}

	// Plain RTMP on the TLS port: the handshake fails, nothing else.
	plain, plainErr := pushLive(t, "rtmp://"+rtmpsAddr+"/live/"+created.Key, 2, h264AAC...)
	if err := plain.Wait(); err == nil {
		t.Fatalf("plain RTMP on the RTMPS port succeeded: %s", plainErr)
	}

	enc, encErr := pushLive(t, created.RTMPSURL, 30, h264AAC...)
	waitLive(t, base, created.ID, "live over RTMPS", 30*time.Second, func(ls liveStream) bool { return ls.Status == "live" })
	_ = enc.Process.Kill()
	_ = enc.Wait()
	t.Logf("ffmpeg over RTMPS: %s", encErr)

	if got := servedSerial(t, rtmpsAddr); got.Cmp(first) != 0 {
		t.Fatalf("the RTMPS port shows certificate %v, want %v", got, first)
	}
	// Renewal: new files (a later modification time), no restart.
	time.Sleep(10 * time.Millisecond)
	second := writeSelfSigned(t, certFile, keyFile)
	if got := servedSerial(t, rtmpsAddr); got.Cmp(second) != 0 {
		t.Fatalf("after renewal the RTMPS port shows certificate %v, want the new %v", got, second)
	}
}
