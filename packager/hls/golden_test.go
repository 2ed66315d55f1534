package hls_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamfront/streamfront/packager/hls"
	"github.com/streamfront/streamfront/packager/index"
)

var update = flag.Bool("update", false, "rewrite the golden playlists in testdata/golden from the current output")

// The playlists of a fixed source, byte for byte: a change to what players
// read shows in review as a change to these files (go test -update
// rewrites them).
func TestPlaylists_MatchTheGoldenFiles(t *testing.T) {
	ix := tinyTSIndex(t)
	v, a := ix.Track(index.Video), ix.Track(index.Audio)
	aMono := *a
	aMono.Language = "fre"
	surround := *a
	surround.Channels, surround.Language = 6, "eng"
	cases := map[string]func() ([]byte, error){
		"master.m3u8": func() ([]byte, error) {
			return hls.Master([]hls.Rendition{{Name: "src", Index: ix}},
				[]hls.Audio{{Rendition: "src", Name: "Stereo", Default: true, Track: a}, {Rendition: "audio1", Name: "French", Track: &aMono}, {Rendition: "surround", Name: "English (Surround 5.1)", Track: &surround}})
		},
		"video.m3u8": func() ([]byte, error) {
			return hls.Media(v, 200*time.Millisecond, hls.InitURI(v.Kind), func(n int) string { return hls.SegmentURI(v.Kind, n) })
		},
		"audio.m3u8": func() ([]byte, error) {
			return hls.Media(a, 200*time.Millisecond, hls.InitURI(a.Kind), func(n int) string { return hls.SegmentURI(a.Kind, n) })
		},
		"iframes.m3u8": func() ([]byte, error) { return hls.IFrames(v, hls.InitURI(v.Kind)) },
		"ts.m3u8": func() ([]byte, error) {
			return hls.MediaTS(v, 200*time.Millisecond, func(n int) string { return hls.TSSegmentURI("src", "", n) })
		},
	}
	for name, make := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := make()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./packager/hls -run Golden -update once)", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", name, path, got, want)
			}
		})
	}
}
