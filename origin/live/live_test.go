package live

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// TestLive_LowLatency pushes 20 s of H.264+AAC and checks, while it
// streams, what players and edges rely on.
func TestLive_LowLatency(t *testing.T) {
	l := startLive(t, LatencyLow, Config{})
	enc := push(t, l.rtmpURL+"/"+testKey, 20, h264AAC())
	e := l.waitEvent(t, EventConnected, 20*time.Second)
	if e.StreamID != "s1" || e.Broadcast != 1 || e.Reconnected {
		t.Fatalf("connected event %+v, want stream s1, broadcast 1, not a reconnection", e)
	}
	if st := l.m.Status("s1"); st.State != StateLive || st.Video != "H.264" || st.Audio != "AAC" {
		t.Fatalf("status %+v, want live with H.264 and AAC", st)
	}
	pl := l.waitSegments(t, "/live/s1/video1_stream.m3u8", 3, true)

	t.Run("status shows the ingest", func(t *testing.T) {
		in := l.m.Status("s1").Ingest
		if in == nil {
			t.Fatal("no ingest statistics while live")
		}
		t.Logf("ingest: %+v", *in)
		// ffmpeg sends 25 fps with a keyframe every 25 frames.
		if in.FrameRate < 24 || in.FrameRate > 26 || in.KeyframeInterval < 900*time.Millisecond ||
			in.KeyframeInterval > 1100*time.Millisecond || in.Bitrate <= 0 {
			t.Errorf("ingest statistics %+v, want 25 fps, a keyframe a second, some bitrate", *in)
		}
	})

	t.Run("playlist is low-latency HLS", func(t *testing.T) {
		if pl.ServerControl == nil || !pl.ServerControl.CanBlockReload || pl.ServerControl.CanSkipUntil == nil {
			t.Errorf("EXT-X-SERVER-CONTROL %+v, want CAN-BLOCK-RELOAD and CAN-SKIP-UNTIL", pl.ServerControl)
		}
		if pl.PartInf == nil || pl.PartInf.PartTarget <= 0 || pl.PartInf.PartTarget > 500*time.Millisecond {
			t.Errorf("EXT-X-PART-INF %+v, want a part target of a few hundred ms", pl.PartInf)
		}
		if pl.PreloadHint == nil {
			t.Error("no EXT-X-PRELOAD-HINT")
		}
		last := pl.Segments[len(pl.Segments)-1]
		if len(last.Parts) == 0 {
			t.Errorf("last segment %+v, want its parts", last)
		}
		checkDatedSegments(t, pl)
		delta := l.mediaPlaylist(t, "/live/s1/video1_stream.m3u8?_HLS_skip=YES")
		t.Logf("delta update: %d segments listed, skip %+v", len(delta.Segments), delta.Skip)
		if delta.Skip == nil {
			t.Error("_HLS_skip=YES answered without EXT-X-SKIP")
		}
		checkDatedSegments(t, delta)
		if code, _ := l.get(t, "/live/s1/no_such_file.mp4"); code != http.StatusNotFound {
			t.Errorf("unknown file answered %d, want 404", code)
		}
		if code, _ := l.get(t, "/live/other/index.m3u8"); code != http.StatusNotFound {
			t.Errorf("stream without broadcast answered %d, want 404", code)
		}
	})

	t.Run("preload hint answers with the next part", func(t *testing.T) {
		pl := l.mediaPlaylist(t, videoPlaylist)
		code, body := l.get(t, "/live/s1/"+pl.PreloadHint.URI)
		if code != http.StatusOK || len(body) == 0 {
			t.Errorf("preload hint %s: %d, %d bytes", pl.PreloadHint.URI, code, len(body))
		}
	})

	t.Run("part latency", func(t *testing.T) {
		measurePartLatency(t, l, "/live/s1/video1_stream.m3u8", 20)
	})

	t.Run("gohlslib client receives video and audio", func(t *testing.T) {
		got := &collect{wantV: 50, wantA: 50, full: make(chan struct{})}
		full := got.full
		// The default download callbacks print every request.
		quiet := func(string) {}
		c := &gohlslib.Client{
			URI:                       l.http.URL + "/live/s1/index.m3u8",
			OnDownloadPrimaryPlaylist: quiet,
			OnDownloadStreamPlaylist:  quiet,
			OnDownloadSegment:         quiet,
			OnDownloadPart:            quiet,
			OnDecodeError:             func(err error) { t.Errorf("client decode error: %v", err) },
		}
		c.OnTracks = func(tracks []*gohlslib.Track) error {
			var kinds []string
			for _, tr := range tracks {
				switch tr.Codec.(type) {
				case *codecs.H264:
					kinds = append(kinds, "h264")
					c.OnDataH26x(tr, func(_, _ int64, au [][]byte) {
						if len(au) > 0 {
							got.add(true)
						}
					})
				case *codecs.MPEG4Audio:
					kinds = append(kinds, "aac")
					c.OnDataMPEG4Audio(tr, func(_ int64, aus [][]byte) {
						for range aus {
							got.add(false)
						}
					})
				}
			}
			slices.Sort(kinds)
			if !slices.Equal(kinds, []string{"aac", "h264"}) {
				return fmt.Errorf("tracks %v, want h264 and aac", kinds)
			}
			return nil
		}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		stopped := make(chan error, 1)
		go func() { stopped <- c.Wait2() }()
		select {
		case <-full:
		case err := <-stopped:
			t.Fatalf("client stopped: %v", err)
		case <-time.After(15 * time.Second):
			got.mu.Lock()
			defer got.mu.Unlock()
			t.Fatalf("client got %d video and %d audio samples, want %d and %d", got.video, got.audio, got.wantV, got.wantA)
		}
	})

	t.Run("ffmpeg decodes the HLS", func(t *testing.T) {
		decode(t, l.http.URL+"/live/s1/index.m3u8", 3)
	})

	_ = enc.stop()
	e = l.waitEvent(t, EventDisconnected, 20*time.Second)
	if st := l.m.Status("s1"); st.State != StateIdle || st.Broadcast != 1 {
		t.Errorf("status after the encoder stopped: %+v, want idle, broadcast 1", st)
	}
	if code, _ := l.get(t, "/live/s1/index.m3u8"); code != http.StatusOK {
		t.Errorf("playlist in the reconnect window answered %d, want 200", code)
	}
}

// measurePartLatency follows the newest part with blocking reloads, as an
// LL-HLS player does, n times, and logs how old the newest frame of each
// new part is when the playlist announcing it arrives: the ingest-to-
// availability latency on this machine. The frame's time is the playlist's
// EXT-X-PROGRAM-DATE-TIME, which the manager sets from the encoder's clock
// anchored when RTMP media arrives, so the encoder's own delay and the
// player's buffer are not included. Logged, never asserted.
func measurePartLatency(t *testing.T, l *live, path string, n int) {
	var ages, oldest []time.Duration
	pl := l.mediaPlaylist(t, path)
	for range n {
		msn, part := pl.MediaSequence+len(pl.Segments), len(pl.Parts)
		pl = l.mediaPlaylist(t, fmt.Sprintf("%s?_HLS_msn=%d&_HLS_part=%d", path, msn, part))
		arrived := time.Now()
		end, ok := newestPartEnd(pl)
		if !ok {
			t.Fatalf("playlist without a dated segment:\n%+v", pl)
		}
		ages = append(ages, arrived.Sub(end))
		if len(pl.Parts) > 0 {
			oldest = append(oldest, arrived.Sub(end.Add(-pl.Parts[len(pl.Parts)-1].Duration)))
		}
	}
	pct := func(d []time.Duration) string {
		slices.Sort(d)
		if len(d) == 0 {
			return "none"
		}
		return fmt.Sprintf("min %v, p50 %v, p95 %v, max %v", d[0].Round(time.Millisecond), d[len(d)/2].Round(time.Millisecond),
			d[len(d)*95/100].Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond))
	}
	holdBack := time.Duration(0)
	if pl.ServerControl != nil && pl.ServerControl.PartHoldBack != nil {
		holdBack = *pl.ServerControl.PartHoldBack
	}
	t.Logf("newest part announced, %d blocking reloads, part target %v: after the part's end at ingest %s; after its first frame at ingest %s; players then hold back %v (PART-HOLD-BACK)",
		len(ages), pl.PartInf.PartTarget, pct(ages), pct(oldest), holdBack)
}

// newestPartEnd is the wall-clock end of the newest part of pl: the last
// dated segment's EXT-X-PROGRAM-DATE-TIME plus the durations after it.
func newestPartEnd(pl *playlist.Media) (time.Time, bool) {
	var end time.Time
	dated := false
	for _, s := range pl.Segments {
		if s.DateTime != nil {
			end, dated = *s.DateTime, true
		}
		if dated {
			end = end.Add(s.Duration)
		}
	}
	for _, p := range pl.Parts {
		end = end.Add(p.Duration)
	}
	return end, dated
}

func TestLive_StandardLatencyServesFMP4(t *testing.T) {
	l := startLive(t, LatencyStandard, Config{})
	push(t, l.rtmpURL+"/"+testKey, 14, h264AAC())
	l.waitEvent(t, EventConnected, 20*time.Second)
	pl := l.waitSegments(t, "/live/s1/video1_stream.m3u8", 3, false)
	if pl.PartInf != nil || pl.PreloadHint != nil || pl.Map == nil || !strings.HasSuffix(pl.Map.URI, "_init.mp4") {
		t.Errorf("standard playlist has PART-INF %v, PRELOAD-HINT %v, MAP %v: want plain fMP4 HLS", pl.PartInf, pl.PreloadHint, pl.Map)
	}
	// Players stay three target durations behind live: with a keyframe a
	// second, the default cuts 1 s segments, so they are 3 s behind.
	if pl.TargetDuration != 1 {
		t.Errorf("standard playlist has EXT-X-TARGETDURATION %d from an encoder with a keyframe a second, want 1", pl.TargetDuration)
	}
	for i, seg := range pl.Segments {
		if seg.Duration < 900*time.Millisecond || seg.Duration > 1100*time.Millisecond {
			t.Errorf("segment %d lasts %v, want 1 s (a keyframe a second)", pl.MediaSequence+i, seg.Duration)
		}
	}
	checkDatedSegments(t, pl)
	decode(t, l.http.URL+"/live/s1/index.m3u8", 3)
}

// checkDatedSegments wants EXT-X-PROGRAM-DATE-TIME on every segment that
// holds media, each one its predecessor's date plus its duration (no
// encoder reconnected here).
func checkDatedSegments(t *testing.T, pl *playlist.Media) {
	t.Helper()
	var prev *playlist.MediaSegment
	for i, s := range pl.Segments {
		if s.Gap {
			continue
		}
		if s.DateTime == nil {
			t.Errorf("segment %d (%s) has no EXT-X-PROGRAM-DATE-TIME", pl.MediaSequence+i, s.URI)
			continue
		}
		if prev != nil {
			if d := s.DateTime.Sub(prev.DateTime.Add(prev.Duration)); d < -time.Millisecond || d > time.Millisecond {
				t.Errorf("segment %d is dated %v after its predecessor's end", pl.MediaSequence+i, d)
			}
		}
		prev = s
	}
}
