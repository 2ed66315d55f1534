package live

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

const videoPlaylist = "/live/s1/video1_stream.m3u8"

func TestLive_ReconnectWithinWindowContinuesBroadcast(t *testing.T) {
	l := startLive(t, LatencyLow, Config{})

	first := push(t, l.rtmpURL+"/"+testKey, 6, h264AAC())
	l.waitEvent(t, EventConnected, 20*time.Second)
	before := l.waitSegments(t, videoPlaylist, 2, true)
	if err := first.wait(t, 30*time.Second); err != nil {
		t.Fatalf("first encoder: %v\n%s", err, first.stderr)
	}
	if e := l.waitEvent(t, EventDisconnected, 20*time.Second); e.Reason != "" {
		t.Errorf("an encoder that ended its stream left the reason %q", e.Reason)
	}
	idle := l.mediaPlaylist(t, videoPlaylist)

	// The same encoding again: the broadcast continues in the same muxer.
	push(t, l.rtmpURL+"/"+testKey, 8, h264AAC())
	e := l.waitEvent(t, EventConnected, 20*time.Second)
	if !e.Reconnected || e.Broadcast != 1 {
		t.Fatalf("reconnection event %+v, want Reconnected in broadcast 1", e)
	}
	if st := l.m.Status("s1"); st.State != StateLive || st.Connections != 2 {
		t.Errorf("status %+v, want live with 2 connections", st)
	}
	// The first segments after the break, so ffmpeg's live start (three
	// segments from the end) decodes across it.
	next := idle.MediaSequence + len(idle.Segments) + 3
	after := l.waitMSN(t, videoPlaylist, next)
	t.Logf("before: seq %d, %d segments; idle: seq %d, %d segments; after (msn %d): seq %d, %d segments",
		before.MediaSequence, len(before.Segments), idle.MediaSequence, len(idle.Segments), next, after.MediaSequence, len(after.Segments))
	if after.Map == nil || before.Map == nil || after.Map.URI != before.Map.URI {
		t.Errorf("init segment changed across the reconnection (%v → %v): players would have to start over", before.Map, after.Map)
	}
	if after.MediaSequence < before.MediaSequence {
		t.Errorf("media sequence went back from %d to %d", before.MediaSequence, after.MediaSequence)
	}
	decode(t, l.http.URL+"/live/s1/index.m3u8", 3)

	l.m.End("s1")
	l.waitEvent(t, EventEnded, 20*time.Second)
	if st := l.m.Status("s1"); st.State != StateEnded {
		t.Errorf("status after End: %+v, want ended", st)
	}
	if code, _ := l.get(t, "/live/s1/index.m3u8"); code != http.StatusNotFound {
		t.Errorf("playlist of an ended broadcast answered %d, want 404", code)
	}
}

func TestLive_ReconnectWithNewEncodingRestartsPackaging(t *testing.T) {
	l := startLive(t, LatencyLow, Config{})
	first := push(t, l.rtmpURL+"/"+testKey, 5, h264AAC())
	l.waitEvent(t, EventConnected, 20*time.Second)
	before := l.waitSegments(t, videoPlaylist, 1, true)
	_ = first.wait(t, 30*time.Second)
	l.waitEvent(t, EventDisconnected, 20*time.Second)

	pushSized(t, l.rtmpURL+"/"+testKey, 8, "480x270", h264AAC())
	e := l.waitEvent(t, EventConnected, 20*time.Second)
	if !e.Reconnected || e.Broadcast != 1 {
		t.Fatalf("reconnection event %+v, want Reconnected in broadcast 1", e)
	}
	after := l.waitSegments(t, videoPlaylist, 2, true)
	if after.Map.URI == before.Map.URI {
		t.Errorf("a new picture size kept the init segment %s", after.Map.URI)
	}
	decode(t, l.http.URL+"/live/s1/index.m3u8", 2)
}

func TestLive_BroadcastEndsAfterReconnectWindow(t *testing.T) {
	l := startLive(t, LatencyLow, Config{ReconnectWindow: time.Second})
	enc := push(t, l.rtmpURL+"/"+testKey, 4, h264AAC())
	l.waitEvent(t, EventConnected, 20*time.Second)
	_ = enc.wait(t, 30*time.Second)
	l.waitEvent(t, EventDisconnected, 20*time.Second)
	e := l.waitEvent(t, EventEnded, 20*time.Second)
	if e.Broadcast != 1 {
		t.Errorf("ended event %+v, want broadcast 1", e)
	}
	if st := l.m.Status("s1"); st.State != StateEnded {
		t.Errorf("status %+v, want ended", st)
	}
	if code, _ := l.get(t, "/live/s1/index.m3u8"); code != http.StatusNotFound {
		t.Errorf("playlist of an ended broadcast answered %d, want 404", code)
	}

	// The next connection starts the next broadcast.
	push(t, l.rtmpURL+"/"+testKey, 4, h264AAC())
	if e := l.waitEvent(t, EventConnected, 20*time.Second); e.Broadcast != 2 || e.Reconnected {
		t.Errorf("connection after the end: %+v, want broadcast 2, not a reconnection", e)
	}
}

func TestIngest_RefusesSecondEncoderWhileLive(t *testing.T) {
	l := startLive(t, LatencyLow, Config{})
	push(t, l.rtmpURL+"/"+testKey, 12, h264AAC())
	l.waitEvent(t, EventConnected, 20*time.Second)

	second := push(t, l.rtmpURL+"/"+testKey, 12, h264AAC())
	e := l.waitEvent(t, EventRefused, 20*time.Second)
	if !strings.Contains(e.Reason, "another encoder is already publishing") {
		t.Errorf("refusal reason %q", e.Reason)
	}
	if err := second.wait(t, 20*time.Second); err == nil {
		t.Error("the second encoder was not refused")
	}
	if st := l.m.Status("s1"); st.State != StateLive || st.Connections != 1 {
		t.Errorf("status %+v, want the first encoder still live", st)
	}
}
