package usage_test

import (
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/usage"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		path  string
		video string
		kind  usage.Kind
	}{
		{"/videos/0vq5m2k9/master.m3u8", "0vq5m2k9", usage.KindPlaylist},
		{"/videos/0vq5m2k9/master-ts.m3u8?token=x", "0vq5m2k9", usage.KindPlaylist},
		{"/videos/0vq5m2k9/hls/720p/video.m3u8", "0vq5m2k9", usage.KindPlaylist},
		{"/videos/0vq5m2k9/hls/720p/video/3.m4s", "0vq5m2k9", usage.KindSegment},
		{"/videos/0vq5m2k9/hls/720p/video/init.mp4", "0vq5m2k9", usage.KindSegment},
		{"/videos/0vq5m2k9/hls/720p/ts/12.ts", "0vq5m2k9", usage.KindSegment},
		{"/videos/0vq5m2k9/r/src.mp4", "0vq5m2k9", usage.KindMP4},
		{"/videos/0vq5m2k9/thumbs/poster.jpg", "0vq5m2k9", usage.KindOther},
		{"/live/cam-1/hls/src/video/9.m4s", "cam-1", usage.KindSegment},
		{"/videos/lv1x/8f2c_video1_part12.mp4", "lv1x", usage.KindSegment},
		{"/videos/lv1x/8f2c_video1_seg3.mp4", "lv1x", usage.KindSegment},
		{"/videos/lv1x/video1_stream.m3u8?_HLS_msn=3&_HLS_part=1", "lv1x", usage.KindPlaylist},
		{"/videos/lv1x/dvr/000001/000/video1/000000000012.m4s", "lv1x", usage.KindSegment},
		{"/videos/lv1x/thumbnail.jpg", "lv1x", usage.KindOther},
		{"/videos/../r/src.mp4", "", usage.KindOther},
		{"/videos/a.b/r/src.mp4", "", usage.KindOther},
		{"/videos/0vq5m2k9", "", usage.KindOther},
		{"/healthz", "", usage.KindOther},
		{"", "", usage.KindOther},
	}
	for _, tt := range tests {
		if v, k := usage.Classify(tt.path); v != tt.video || k != tt.kind {
			t.Errorf("Classify(%q) = %q, %v; want %q, %v", tt.path, v, k, tt.video, tt.kind)
		}
	}
}

func FuzzClassify(f *testing.F) {
	f.Add("/videos/0vq5m2k9/hls/720p/video/3.m4s")
	f.Add("/videos/0vq5m2k9/r/src.mp4?x=1")
	f.Add("/live//a.m3u8")
	f.Fuzz(func(t *testing.T, path string) {
		v, k := usage.Classify(path)
		if v != "" && !usage.ValidName(v) {
			t.Fatalf("Classify(%q) gave video %q", path, v)
		}
		if _, err := k.MarshalText(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDeliveredShare(t *testing.T) {
	tests := []struct {
		sent, total int64
		d, want     time.Duration
	}{
		{500, 1000, 10 * time.Second, 5 * time.Second},
		{1000, 1000, time.Hour, time.Hour},
		{2000, 1000, time.Hour, time.Hour}, // never more than the whole
		{0, 1000, time.Hour, 0},
		{1, 0, time.Hour, 0},
		// 40 GiB, 3 h: the product overflows 64 bits, the answer must not.
		{20 << 30, 40 << 30, 3 * time.Hour, 90 * time.Minute},
	}
	for _, tt := range tests {
		if got := usage.DeliveredShare(tt.sent, tt.total, tt.d); got != tt.want {
			t.Errorf("DeliveredShare(%d, %d, %s) = %s, want %s", tt.sent, tt.total, tt.d, got, tt.want)
		}
	}
}

func BenchmarkClassify(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		usage.Classify("/videos/0vq5m2k9c1a3b00042/hls/720p/video/3.m4s")
	}
}
