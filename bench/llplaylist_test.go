package bench

import (
	"math"
	"slices"
	"testing"
)

const llSample = `#EXTM3U
#EXT-X-VERSION:10
#EXT-X-TARGETDURATION:1
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.50000,CAN-SKIP-UNTIL=6.00000
#EXT-X-PART-INF:PART-TARGET=0.20000
#EXT-X-MEDIA-SEQUENCE:39
#EXT-X-MAP:URI="init.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T20:12:18.993Z
#EXTINF:1.00000,
seg39.mp4
#EXT-X-PART:DURATION=0.20000,URI="part165.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.20000,URI="part166.mp4"
#EXT-X-PART:DURATION=0.20000,URI="part167.mp4"
#EXT-X-PART:DURATION=0.20000,URI="part168.mp4"
#EXT-X-PART:DURATION=0.20000,URI="part169.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-12-04T20:12:19.993Z
#EXTINF:1.00000,
seg40.mp4
#EXT-X-PART:DURATION=0.20000,URI="part170.mp4",INDEPENDENT=YES
#EXT-X-PART:DURATION=0.20000,URI="part171.mp4"
#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part172.mp4"
`

func TestParseLLPlaylist(t *testing.T) {
	pl, err := parseLLPlaylist([]byte(llSample))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"part165.mp4", "part166.mp4", "part167.mp4", "part168.mp4", "part169.mp4", "part170.mp4", "part171.mp4"}
	if !slices.Equal(pl.partURIs(), want) {
		t.Errorf("parts = %v, want %v", pl.partURIs(), want)
	}
	// The next part is the preload hint's: the third of segment 41.
	if pl.nextMSN != 41 || pl.nextPart != 2 {
		t.Errorf("next = msn %d part %d, want msn 41 part 2", pl.nextMSN, pl.nextPart)
	}
}

func TestParseLLPlaylistRefusesPlainHLS(t *testing.T) {
	_, err := parseLLPlaylist([]byte("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:2.0,\nseg1.ts\n"))
	if err == nil {
		t.Fatal("a playlist without parts was taken for a low-latency one")
	}
}

func TestPercentile(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if got := percentile(xs, 0.5); got != 5 {
		t.Errorf("p50 = %v, want 5", got)
	}
	if got := percentile(xs, 0.95); got != 10 {
		t.Errorf("p95 = %v, want 10", got)
	}
	if got := percentile(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("p50 of nothing = %v, want NaN", got)
	}
}
