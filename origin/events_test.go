package origin_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/origin"
	"github.com/streamfront/streamfront/packager/transcode"
)

// A remuxable upload is ready before its ladder is encoded: the event
// stream says so at once, goes on with the ladder's progress (still
// ready), and ends by itself when the video is complete.
func TestEvents_FollowTheLadderAfterReadyUntilComplete(t *testing.T) {
	testenv.Require(t, "ffmpeg")
	s3 := startBackend(t)
	o := startOriginOn(t, s3, 0, withWorker(func(c *origin.WorkerConfig) {
		c.Ladder = []transcode.Rung{{Name: "180p", ShortSide: 180, VideoBitrate: 200_000}}
	}))
	src := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Seconds: 6})
	code, v, body := upload(t, o.URL, src, "")
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, o.URL+"/api/v1/videos/"+v.ID+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	type event struct {
		Status string `json:"status"`
		Stage  string `json:"stage"`
		Video  struct {
			Renditions []struct {
				Name string `json:"name"`
			} `json:"renditions"`
		} `json:"video"`
	}
	var events []event
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev event
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("bad event %q: %v", data, err)
		}
		events = append(events, ev)
	}
	if ctx.Err() != nil {
		t.Fatalf("the event stream did not end by itself; events: %+v", events)
	}
	if len(events) == 0 {
		t.Fatal("no events")
	}
	last := events[len(events)-1]
	if last.Status != "ready" || last.Stage != "" || len(last.Video.Renditions) != 2 {
		t.Fatalf("last event: %+v, want ready with no stage and 2 renditions", last)
	}
	sawReady := false
	for i, ev := range events {
		switch {
		case ev.Status == "ready":
			if len(ev.Video.Renditions) == 0 {
				t.Fatalf("event %d says ready with no renditions: %+v", i, events)
			}
			sawReady = true
		case sawReady:
			t.Fatalf("event %d says %q after the video was ready: %+v", i, ev.Status, events)
		}
	}
}
