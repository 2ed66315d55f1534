package transcode

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestPlanLiveLadder_RungsBelowTheSourceAtItsAspect(t *testing.T) {
	url := func(name string) string { return "rtmp://o/live/k." + name }
	tests := []struct {
		name          string
		width, height int
		want          []string
	}{
		{"720p source", 1280, 720, []string{"480p 854x480", "360p 640x360"}},
		{"1080p source", 1920, 1080, []string{"720p 1280x720", "480p 854x480", "360p 640x360"}},
		{"portrait 1080x1920", 1080, 1920, []string{"720p 720x1280", "480p 480x854", "360p 360x640"}},
		{"360p source: nothing meaningfully below", 640, 360, nil},
		{"unknown size", 0, 0, nil},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range PlanLiveLadder(DefaultLadder, tt.width, tt.height, url) {
			got = append(got, fmt.Sprintf("%s %dx%d", r.Name, r.Width, r.Height))
			if r.URL != url(r.Name) || r.VideoBitrate <= 0 {
				t.Errorf("%s: rung %+v", tt.name, r)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestLiveLadderArgs_OneDecodeEveryRungKeyedAsTheSource(t *testing.T) {
	rungs := []LiveRung{{Name: "480p", Width: 854, Height: 480, VideoBitrate: 1_400_000, URL: "rtmp://o/live/k.480p"},
		{Name: "360p", Width: 640, Height: 360, URL: "rtmp://o/live/k.360p"}}
	args := strings.Join(LiveLadderArgs("rtmp://o/live/k.source", rungs, LiveOptions{Threads: 2}), " ")
	for _, want := range []string{
		"-i rtmp://o/live/k.source -copyts -threads 2",
		"[0:v]split=2[s0][s1];[s0]scale=854:480,setsar=1[v0];[s1]scale=640:360,setsar=1[v1]",
		"-map [v0] -c:v libx264 -preset veryfast -tune zerolatency",
		"-force_key_frames source",
		"-b:v 1400000 -maxrate 1400000 -bufsize 2800000 -an -f flv rtmp://o/live/k.480p",
		"-fps_mode passthrough -an -f flv rtmp://o/live/k.360p",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("args do not hold %q:\n%s", want, args)
		}
	}
}
