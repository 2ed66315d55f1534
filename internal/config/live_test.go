package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/config"
)

func TestLive_OffByDefaultOnWithItsKeys(t *testing.T) {
	l, err := config.Parse("deploy.yaml", []byte("log_level: info\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if l.OriginConfig().Live != nil {
		t.Fatal("live streaming is on in a file that does not ask for it")
	}
	yaml := `live:
  enabled: true
  rtmp_addr: 127.0.0.1:1936
  rtmp_url: rtmp://live.example.com/live
  reconnect_window: 5s
  part_target: 300ms
  host_lease_ttl: 7s
`
	l, err = config.Parse("deploy.yaml", []byte(yaml), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	lc := l.OriginConfig().Live
	if lc == nil {
		t.Fatal("live.enabled did not reach the origin")
	}
	if lc.RTMPAddr != "127.0.0.1:1936" || lc.RTMPURL != "rtmp://live.example.com/live" ||
		lc.ReconnectWindow != 5*time.Second || lc.PartTarget != 300*time.Millisecond ||
		lc.SegmentTarget != time.Second || lc.StandardSegmentTarget != time.Second || lc.HostLeaseTTL != 7*time.Second {
		t.Fatalf("origin's live config: %+v", *lc)
	}
}

func TestLive_MistakesAreReported(t *testing.T) {
	yaml := `live:
  enabled: true
  rtmp_url: http://live.example.com/live
  part_target: 2s
  reconect_window: 5s
`
	_, err := config.Parse("deploy.yaml", []byte(yaml), noEnv)
	if err == nil || !strings.Contains(err.Error(), `unknown key "reconect_window" (did you mean "reconnect_window"?)`) {
		t.Fatalf("a mistyped key is not reported: %v", err)
	}
	_, err = config.Parse("deploy.yaml", []byte(strings.ReplaceAll(yaml, "  reconect_window: 5s\n", "")), noEnv)
	for _, want := range []string{
		`live.rtmp_url: "http://live.example.com/live" must be an rtmp:// URL`,
		"live.part_target: 2s must be shorter than live.segment_target 1s",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

func TestLive_RTMPSKeys(t *testing.T) {
	yaml := `live:
  enabled: true
  rtmp_addr: :1935
  rtmps_addr: :1936
  rtmps_url: rtmps://live.example.com/live
  tls_cert_file: /etc/streamfront/live.crt
  tls_key_file: /etc/streamfront/live.key
`
	l, err := config.Parse("deploy.yaml", []byte(yaml), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	lc := l.OriginConfig().Live
	if lc.RTMPSAddr != ":1936" || lc.RTMPSURL != "rtmps://live.example.com/live" ||
		lc.TLSCertFile != "/etc/streamfront/live.crt" || lc.TLSKeyFile != "/etc/streamfront/live.key" {
		t.Fatalf("origin's live config: %+v", *lc)
	}

	_, err = config.Parse("deploy.yaml", []byte(strings.NewReplacer("  tls_key_file: /etc/streamfront/live.key\n", "",
		"rtmps://live", "rtmp://live").Replace(yaml)), noEnv)
	for _, want := range []string{
		"live.rtmps_addr: needs live.tls_cert_file and live.tls_key_file",
		`live.rtmps_url: "rtmp://live.example.com/live" must be an rtmps:// URL`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	_, err = config.Parse("deploy.yaml", []byte("live:\n  enabled: true\n  rtmp_addr: :1935\n  tls_cert_file: a.crt\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "live.rtmps_addr: is not set, so live.tls_cert_file") {
		t.Errorf("a certificate without rtmps_addr is not reported: %v", err)
	}
}

func TestLive_LadderKeys(t *testing.T) {
	yaml := `live:
  enabled: true
  rtmp_addr: :1935
  rtmp_url: rtmp://live.example.com/live
  ladder_rtmp_url: rtmp://origin-1.internal:1935/live
worker:
  live_ladders: 2
  live_preset: superfast
`
	l, err := config.Parse("deploy.yaml", []byte(yaml), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if lc := l.OriginConfig().Live; lc.LadderRTMPURL != "rtmp://origin-1.internal:1935/live" {
		t.Errorf("origin's ladder_rtmp_url: %q", lc.LadderRTMPURL)
	}
	if wc := l.WorkerConfig("w1"); wc.LiveLadders != 2 || wc.LivePreset != "superfast" {
		t.Errorf("worker's live ladders %d, preset %q", wc.LiveLadders, wc.LivePreset)
	}

	// Defaults: one live ladder at veryfast; 0 takes none.
	l, err = config.Parse("deploy.yaml", []byte("worker: {max_encodes: 1}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if wc := l.WorkerConfig("w1"); wc.LiveLadders != 1 || wc.LivePreset != "veryfast" {
		t.Errorf("default live ladders %d, preset %q", wc.LiveLadders, wc.LivePreset)
	}
	l, err = config.Parse("deploy.yaml", []byte("worker: {live_ladders: 0}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if wc := l.WorkerConfig("w1"); wc.LiveLadders != -1 {
		t.Errorf("live_ladders: 0 gives the worker %d, want -1 (none)", wc.LiveLadders)
	}

	_, err = config.Parse("deploy.yaml", []byte(strings.NewReplacer("rtmp://origin-1", "http://origin-1",
		"superfast", "quick", "live_ladders: 2", "live_ladders: -1").Replace(yaml)), noEnv)
	for _, want := range []string{
		`live.ladder_rtmp_url: "http://origin-1.internal:1935/live" must be an rtmp:// URL`,
		`worker.live_preset: "quick" is not an x264 preset`,
		"worker.live_ladders: -1 must not be negative",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}
