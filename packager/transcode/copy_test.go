package transcode

import (
	"strings"
	"testing"
)

func TestCopyable(t *testing.T) {
	h264 := &Stream{Codec: "h264"}
	aac := &Stream{Codec: "aac"}
	tests := []struct {
		name string
		src  Source
		want bool
	}{
		{"H.264 + AAC", Source{Video: h264, Audio: aac}, true},
		{"HEVC, no audio", Source{Video: &Stream{Codec: "hevc"}}, true},
		{"AAC only", Source{Audio: aac}, true},
		{"VP9", Source{Video: &Stream{Codec: "vp9"}, Audio: aac}, false},
		{"Opus", Source{Video: h264, Audio: &Stream{Codec: "opus"}}, false},
		{"rotated", Source{Video: &Stream{Codec: "h264", Rotation: 90}, Audio: aac}, false},
		{"H.264 8-bit 4:2:0", Source{Video: &Stream{Codec: "h264", PixFmt: "yuv420p", FieldOrder: "progressive"}, Audio: aac}, true},
		{"H.264 High 10", Source{Video: &Stream{Codec: "h264", PixFmt: "yuv420p10le"}, Audio: aac}, false},
		{"H.264 4:2:2", Source{Video: &Stream{Codec: "h264", PixFmt: "yuv422p"}, Audio: aac}, false},
		{"HEVC Main 10", Source{Video: &Stream{Codec: "hevc", PixFmt: "yuv420p10le"}, Audio: aac}, true},
		{"interlaced H.264", Source{Video: &Stream{Codec: "h264", PixFmt: "yuv420p", FieldOrder: "tt"}, Audio: aac}, false},
		{"nothing", Source{}, false},
	}
	for _, tc := range tests {
		if got := tc.src.Copyable(); got != tc.want {
			t.Errorf("%s: Copyable() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCopyArgs(t *testing.T) {
	got := strings.Join(CopyArgs("in.mkv", &Source{Video: &Stream{Codec: "hevc"}, Audio: &Stream{Codec: "aac"}}, "out.mp4"), " ")
	for _, want := range []string{"-i in.mkv", "-map 0:v:0 -tag:v hvc1 -map 0:a:0", "-c copy", "+faststart", "out.mp4"} {
		if !strings.Contains(got, want) {
			t.Errorf("args %q lack %q", got, want)
		}
	}
	if got := strings.Join(CopyArgs("in.mka", &Source{Audio: &Stream{Codec: "aac"}}, "out.mp4"), " "); strings.Contains(got, "0:v") || strings.Contains(got, "tag:v") {
		t.Errorf("audio-only args %q name video", got)
	}
}
