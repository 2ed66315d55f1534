package origin

import (
	"strings"
	"testing"
)

const ffmpegEventPlaylist = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:EVENT
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init.mp4"
#EXTINF:2.000000,
seg-0.m4s
#EXTINF:2.000000,
seg-1.m4s
`

func TestGrowingFiles_ListsWhatFFmpegWroteAndRefusesOtherNames(t *testing.T) {
	files, err := growingFiles([]byte(ffmpegEventPlaylist))
	if err != nil || strings.Join(files, " ") != "init.mp4 seg-0.m4s seg-1.m4s" {
		t.Fatalf("files %v, err %v", files, err)
	}
	for _, bad := range []string{"../meta.json", "seg-1.m4s/../../x", "stream.m3u8", "/etc/passwd", `#EXT-X-MAP:URI="../x"`} {
		if _, err := growingFiles([]byte(ffmpegEventPlaylist + bad + "\n")); err == nil {
			t.Errorf("%q was accepted as a file to store", bad)
		}
	}
}

// FuzzGrowingFiles: whatever the playlist, only names ffmpeg writes come
// out (they become S3 keys).
func FuzzGrowingFiles(f *testing.F) {
	f.Add([]byte(ffmpegEventPlaylist))
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := growingFiles(b)
		if err != nil {
			return
		}
		for _, name := range files {
			if !growingFile.MatchString(name) || name == "stream.m3u8" {
				t.Fatalf("%q came out of %q", name, b)
			}
		}
	})
}
