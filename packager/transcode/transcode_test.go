package transcode

import (
	"context"
	"strings"
	"testing"
)

func TestLadderArgs_EachOutputCarriesItsAudioTrack(t *testing.T) {
	eng := &Stream{Index: 1, Codec: "opus", Channels: 2, Language: "eng"}
	fre := &Stream{Index: 2, Codec: "opus", Channels: 6, Language: "fre"}
	src := &Source{Video: &Stream{Index: 0, Codec: "vp9", Width: 640, Height: 360, SAR: 1},
		Audio: eng, AudioTracks: []*Stream{eng, fre}, byIndex: true}
	outs := append([]Output{{Path: "360p.mp4", Rung: Rung{Name: "360p"}}}, src.ExtraAudioOutputs("/tmp/x")...)
	if len(outs) != 2 || outs[1].AudioTrack != 1 || !outs[1].AudioOnly || outs[1].Path != "/tmp/x/audio1.mp4" {
		t.Fatalf("extra audio outputs: %+v", outs[1:])
	}
	got := strings.Join(LadderArgs("in.mkv", src, outs, LadderOptions{}), " ")
	for _, want := range []string{
		"[0:0]split=1",
		"-map [v0] -c:v libx264",
		"-map 0:1 -af aresample=async=1:first_pts=0 -c:a aac -b:a 128000 -ac 2",
		"-map 0:2 -af aresample=async=1:first_pts=0 -c:a aac -b:a 128000 -ac 2 -ar 48000 -movflags +faststart -f mp4 /tmp/x/audio1.mp4",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("args %q lack %q", got, want)
		}
	}
	if strings.Contains(got, "bwdif") {
		t.Errorf("progressive video deinterlaced: %q", got)
	}
}

func TestLadderArgs_HandBuiltSourceTakesTheFirstStreams(t *testing.T) {
	src := &Source{Video: &Stream{Codec: "h264", Width: 640, Height: 360, FieldOrder: "bb"}, Audio: &Stream{Codec: "aac", Channels: 2}}
	got := strings.Join(LadderArgs("in.mp4", src, []Output{{Path: "o.mp4"}}, LadderOptions{}), " ")
	for _, want := range []string{"[0:v:0]bwdif=mode=send_frame:parity=auto:deint=all,split=1", "-map 0:a:0 "} {
		if !strings.Contains(got, want) {
			t.Errorf("args %q lack %q", got, want)
		}
	}
}

func TestEncodeLadder_RefusesAnAudioTrackTheSourceLacks(t *testing.T) {
	src := &Source{Audio: &Stream{Codec: "aac"}}
	err := Config{FFmpeg: "/nonexistent/ffmpeg"}.EncodeLadder(context.Background(), "in.mp4", src,
		[]Output{{Path: "o.mp4", AudioOnly: true, AudioTrack: 1}}, LadderOptions{}, nil)
	if err == nil || !strings.Contains(err.Error(), "no audio track 1") {
		t.Fatalf("got %v", err)
	}
}
