package live

import (
	"strings"
	"testing"
)

func TestLivePath(t *testing.T) {
	tests := []struct {
		path           string
		id, rung, file string
		ok             bool
	}{
		{"/live/s1/index.m3u8", "s1", "", "index.m3u8", true},
		{"/live/s1/1e0b29440ca3_video1_part39.mp4", "s1", "", "1e0b29440ca3_video1_part39.mp4", true},
		{"/live/s1/480p/video1_stream.m3u8", "s1", "480p", "video1_stream.m3u8", true},
		{"/live/s1/480p/", "", "", "", false},
		{"/live/s1/", "", "", "", false},
		{"/live/s1", "", "", "", false},
		{"/live//index.m3u8", "", "", "", false},
		{"/live/s1/a/index.m3u8", "", "", "", false},
		{"/live/s1/480p/a/index.m3u8", "", "", "", false},
		{"/live/s1/..", "", "", "", false},
		{"/live/s1/480p/..", "", "", "", false},
		{"/live/../index.m3u8", "", "", "", false},
		{"/live/s1/%2e%2e", "", "", "", false},
		{"/videos/s1/index.m3u8", "", "", "", false},
	}
	for _, tt := range tests {
		id, rung, file, ok := livePath(tt.path)
		if id != tt.id || rung != tt.rung || file != tt.file || ok != tt.ok {
			t.Errorf("livePath(%q) = %q, %q, %q, %v; want %q, %q, %q, %v", tt.path, id, rung, file, ok, tt.id, tt.rung, tt.file, tt.ok)
		}
	}
}

// FuzzLivePath holds livePath to its promise on any request path: what it
// accepts is plain names (and a rung's name) that rebuild the path exactly.
func FuzzLivePath(f *testing.F) {
	for _, p := range []string{"/live/s1/index.m3u8", "/live/../x", "/live/a/b/c", "/live/a/..", "/live/a/720p/x.mp4"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		id, rung, file, ok := livePath(p)
		if !ok {
			return
		}
		rebuilt := "/live/" + id + "/" + file
		if rung != "" {
			rebuilt = "/live/" + id + "/" + rung + "/" + file
			if !rungName(rung) {
				t.Fatalf("livePath(%q) accepted the rung %q", p, rung)
			}
		}
		if rebuilt != p {
			t.Fatalf("livePath(%q) = %q, %q, %q: does not rebuild the path", p, id, rung, file)
		}
		for _, name := range []string{id, file} {
			if name == "" || strings.ContainsAny(name, "/\\%?#") || strings.Contains(name, "..") {
				t.Fatalf("livePath(%q) accepted the name %q", p, name)
			}
		}
	})
}

func TestStreamKey(t *testing.T) {
	tests := []struct {
		path string
		key  string
		ok   bool
	}{
		{"/live/sk_abc", "sk_abc", true},
		{"/live/", "", false},
		{"/other/sk_abc", "", false},
		{"/live/sk/abc", "", false},
		{"/live/" + strings.Repeat("k", maxKeyLen+1), "", false},
	}
	for _, tt := range tests {
		key, ok := streamKeyFromPath(tt.path)
		if key != tt.key || ok != tt.ok {
			t.Errorf("streamKeyFromPath(%q) = %q, %v; want %q, %v", tt.path, key, ok, tt.key, tt.ok)
		}
	}
}

func TestPartTrack(t *testing.T) {
	tests := []struct {
		file, track string
		ok          bool
	}{
		{"1e0b29440ca3_video1_part39.mp4", "video1", true},
		{"1e0b29440ca3_audio2_part0.mp4", "audio2", true},
		{"1e0b29440ca3_video1_seg3.mp4", "", false},
		{"video1_stream.m3u8", "", false},
		{"_part1.mp4", "", false},
	}
	for _, tt := range tests {
		track, ok := partTrack(tt.file)
		if track != tt.track || ok != tt.ok {
			t.Errorf("partTrack(%q) = %q, %v; want %q, %v", tt.file, track, ok, tt.track, tt.ok)
		}
	}
}
