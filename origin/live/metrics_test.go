package live

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streamfront/streamfront/internal/livehdr"
)

// While a stream broadcasts, /metrics shows its ingest (as Status.Ingest
// says it) and the viewers its edges report on their playlist requests;
// Status carries the same viewer count.
func TestMetrics_IngestAndViewersOfALiveStream(t *testing.T) {
	l := startLive(t, LatencyLow, Config{})
	reg := prometheus.NewRegistry()
	reg.MustRegister(l.m)
	if families, err := reg.Gather(); err != nil || len(families) != 0 {
		t.Fatalf("series before any broadcast: %v %v, want none", families, err)
	}
	push(t, l.rtmpURL+"/"+testKey, 30, h264AAC())
	l.waitEvent(t, EventConnected, 30*time.Second)
	l.waitSegments(t, "/live/s1/video1_stream.m3u8", 2, true)

	for _, edge := range []string{"edge-a=7", "edge-b=5"} {
		req, _ := http.NewRequest(http.MethodGet, l.http.URL+"/live/s1/video1_stream.m3u8", nil)
		req.Header.Set(livehdr.Viewers, edge)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	st := l.m.Status("s1")
	if st.Viewers != 12 || st.Ingest == nil || st.Ingest.Frames < 25 {
		t.Fatalf("status %+v, ingest %+v: want 12 viewers and a second of frames", st, st.Ingest)
	}

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == "s1" {
				got[f.GetName()] = m.GetGauge().GetValue()
			}
		}
	}
	if got["streamfront_live_viewers"] != 12 {
		t.Errorf("streamfront_live_viewers = %v, want 12", got["streamfront_live_viewers"])
	}
	// The test pattern is 25 fps with a keyframe a second; the bitrate is
	// whatever x264 makes of it, but some.
	if fr := got["streamfront_live_ingest_frame_rate"]; fr < 20 || fr > 30 {
		t.Errorf("streamfront_live_ingest_frame_rate = %v, want about 25", fr)
	}
	if ki := got["streamfront_live_ingest_keyframe_interval_seconds"]; ki < 0.9 || ki > 1.1 {
		t.Errorf("streamfront_live_ingest_keyframe_interval_seconds = %v, want about 1", ki)
	}
	if br := got["streamfront_live_ingest_bitrate_bits_per_second"]; br <= 0 {
		t.Errorf("streamfront_live_ingest_bitrate_bits_per_second = %v", br)
	}
	if t.Failed() {
		var names []string
		for n := range got {
			names = append(names, n)
		}
		t.Logf("series for s1: %s", strings.Join(names, ", "))
	}
}
