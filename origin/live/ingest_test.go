package live

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestIngest_RefusesUnknownKeyAtHandshake(t *testing.T) {
	l := startLive(t, LatencyLow, Config{})
	enc := push(t, l.rtmpURL+"/not-a-key", 10, h264AAC())
	err := enc.wait(t, 20*time.Second)
	if err == nil {
		t.Fatalf("ffmpeg published with an unknown key; its log:\n%s", enc.stderr)
	}
	t.Logf("ffmpeg: %v: %s", err, strings.TrimSpace(enc.stderr.String()))
	if st := l.m.Status("s1"); st.State != StateIdle || st.Broadcast != 0 {
		t.Errorf("status after a refused key = %+v, want idle and no broadcast", st)
	}
	select {
	case e := <-l.events:
		t.Errorf("event %+v for a connection with an unknown key", e)
	default:
	}
}

func TestIngest_RefusesNonH264WithReasonInStatus(t *testing.T) {
	tests := []struct {
		name       string
		codecArgs  []string
		wantReason string
	}{
		{"flv1 video", []string{"-c:v", "flv1", "-c:a", "aac"}, "video codec Sorenson H.263 (flv1) is not supported"},
		{"mp3 audio", []string{"-c:v", "libx264", "-preset", "veryfast", "-c:a", "libmp3lame", "-ar", "44100"}, "audio codec MP3 is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := startLive(t, LatencyLow, Config{})
			enc := push(t, l.rtmpURL+"/"+testKey, 6, tt.codecArgs)
			e := l.waitEvent(t, EventRefused, 20*time.Second)
			if !strings.Contains(e.Reason, tt.wantReason) || !strings.Contains(e.Reason, "H.264") {
				t.Errorf("refusal reason %q, want it to contain %q and name H.264", e.Reason, tt.wantReason)
			}
			st := l.m.Status("s1")
			if st.State != StateIdle || st.Reason != e.Reason {
				t.Errorf("status %+v, want idle with the reason %q", st, e.Reason)
			}
			if code, _ := l.get(t, "/live/s1/index.m3u8"); code != http.StatusNotFound {
				t.Errorf("a refused stream's playlist answers %d, want 404", code)
			}
			_ = enc.stop()
		})
	}
}

// TestIngest_KeepsHighBitrateEncoder sends tens of megabytes (lossless
// H.264 of a noisy picture) and the encoder must stay connected to the end.
func TestIngest_KeepsHighBitrateEncoder(t *testing.T) {
	l := startLive(t, LatencyLow, Config{HandshakeTimeout: 5 * time.Second})
	lossless := []string{"-vf", "noise=alls=40:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-g", "25",
		"-pix_fmt", "yuv420p", "-c:a", "aac"}
	enc := pushSized(t, l.rtmpURL+"/"+testKey, 10, "480x270", lossless)
	l.waitEvent(t, EventConnected, 20*time.Second)
	l.waitSegments(t, videoPlaylist, 6, true)
	if in := l.m.Status("s1").Ingest; in != nil {
		t.Logf("ingest after 6 segments: %+v", *in)
	}
	if err := enc.wait(t, 30*time.Second); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, enc.stderr)
	}
	e := l.waitEvent(t, EventDisconnected, 20*time.Second)
	if e.Reason != "" {
		t.Errorf("the encoder was disconnected: %s", e.Reason)
	}
	if in := l.m.Status("s1"); in.Connections != 1 {
		t.Errorf("status %+v, want one connection", in)
	}
}
