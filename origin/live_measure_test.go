package origin_test

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
)

// Measures (logs, asserts nothing about time: the machine is shared) how
// long after a broadcast's end its recording is ready, for the lengths in
// STREAMFRONT_MEASURE_RECORDING (seconds, comma-separated), e.g.
//
//	STREAMFRONT_MEASURE_RECORDING=16,120 go test -run MeasureRecordingReady -v ./origin/
func TestLive_MeasureRecordingReady(t *testing.T) {
	spec := os.Getenv("STREAMFRONT_MEASURE_RECORDING")
	if spec == "" {
		t.Skip("set STREAMFRONT_MEASURE_RECORDING=16,120 to measure")
	}
	for _, f := range strings.Split(spec, ",") {
		seconds, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			t.Fatal(err)
		}
		b := startBackend(t)
		base := startOriginOn(t, b, 0, withLive(t)).URL
		code, ls, body := liveCall(t, http.MethodPost, base+"/api/v1/live", `{"title": "Measure"}`)
		if code != http.StatusCreated {
			t.Fatalf("create: %d %s", code, body)
		}
		enc, encErr := pushLive(t, ls.RTMPURL, seconds, h264AAC...)
		if err := enc.Wait(); err != nil {
			t.Fatalf("ffmpeg: %v %s", err, encErr)
		}
		// Polled every 20 ms: the stream for its video_id, then the video's
		// master playlist, until it answers (what a player needs). The
		// video's API answer is not polled: it adds its own time (usage).
		var ended liveStream
		deadline := time.Now().Add(10 * time.Minute) // a guard against hanging
		for ended.EndedAt == nil || ended.VideoID == "" || ended.Status != "ended" {
			if time.Now().After(deadline) {
				t.Fatalf("not ended with a recording: %+v", ended)
			}
			time.Sleep(20 * time.Millisecond)
			_, ended, _ = liveCall(t, http.MethodGet, base+"/api/v1/live/"+ls.ID, "")
		}
		for {
			res, _ := httpGet(t, base+"/videos/"+ended.VideoID+"/master.m3u8")
			if res.StatusCode == http.StatusOK {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("recording %s never played: HTTP %d", ended.VideoID, res.StatusCode)
			}
			time.Sleep(20 * time.Millisecond)
		}
		readyAfter := time.Since(*ended.EndedAt)
		v := testenv.WaitVideo(t, base, ended.VideoID, "ready", time.Minute, func(v video) bool { return v.Status == "ready" })
		load, _ := os.ReadFile("/proc/loadavg")
		t.Logf("broadcast of %d s: recording %s %s %v after the end (%.2f s long); load %s", seconds, v.ID, v.Status,
			readyAfter.Round(time.Millisecond), v.DurationS, strings.TrimSpace(string(load)))
	}
}
