package packager_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/packager"
	"github.com/streamfront/streamfront/packager/probe"
)

func analyzeFile(t *testing.T, path string) (*packager.Analysis, error) {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	fi, err := f.Stat()
	must(t, err)
	return packager.Analyze(context.Background(), f, fi.Size(), packager.Options{})
}

// TestAnalyze_SendsWhatBrowsersCannotPlayToTranscode: MP4 and MOV files
// with a stream browsers cannot play as it is — editing codecs, PCM audio,
// 10-bit or 4:2:2 H.264, interlaced H.264 — are analysed as needing a
// transcode, with a reason per stream, never refused and never served
// without that stream.
func TestAnalyze_SendsWhatBrowsersCannotPlayToTranscode(t *testing.T) {
	dir := t.TempDir()
	x264 := []string{"-c:v", "libx264", "-preset", "ultrafast"}
	prores := []string{"-c:v", "prores_ks", "-profile:v", "0"}
	cases := []struct {
		in   testenv.Input
		want []string // in the reasons
	}{
		{testenv.InputKind(t, "prores-pcm16.mov"), []string{"ProRes 422 (apcn)", "PCM (sowt)"}},
		{testenv.InputKind(t, "prores-hq-pcm24.mov"), []string{"ProRes 422 HQ (apch)", "PCM (in24)"}},
		{testenv.InputKind(t, "dnxhr-pcm24-5.1.mov"), []string{"DNxHR (AVdh)", "PCM (lpcm)"}},
		{testenv.Input{Name: "dnxhd-pcm16be.mov", Width: 1280, Height: 720, Seconds: 0.2,
			Video: []string{"-c:v", "dnxhd", "-b:v", "90M", "-pix_fmt", "yuv422p"}, Audio: []testenv.Tone{{Codec: "pcm_s16be"}}},
			[]string{"DNxHD (AVdn)", "PCM (twos)"}},
		{testenv.InputKind(t, "h264-high422.mov"), []string{"H.264 High 4:2:2 (avc1.7a"}},
		{testenv.Input{Name: "h264-high10.mp4", Video: slices.Concat(x264, []string{"-profile:v", "high10", "-pix_fmt", "yuv420p10le"}), Audio: []testenv.Tone{{}}},
			[]string{"H.264 High 10 (avc1.6e"}},
		{testenv.Input{Name: "h264-interlaced.mp4", Interlaced: true, Video: slices.Concat(x264, []string{"-x264opts", "tff=1"}), Audio: []testenv.Tone{{}}},
			[]string{"interlaced"}},
		// One stream served, the other not: the file is transcoded whole
		// rather than served without its picture, or its sound.
		{testenv.Input{Name: "prores-aac.mov", Video: prores, Audio: []testenv.Tone{{}}}, []string{"ProRes 422 Proxy (apco)"}},
		{testenv.Input{Name: "h264-pcm.mov", Video: x264, Audio: []testenv.Tone{{Codec: "pcm_s16le"}}}, []string{"PCM (sowt)"}},
		{testenv.Input{Name: "av1-aac.mp4", Video: []string{"-c:v", "libaom-av1", "-usage", "realtime", "-cpu-used", "8"}, Audio: []testenv.Tone{{}}},
			[]string{"AV1 (av01)"}},
	}
	for _, c := range cases {
		t.Run(c.in.Name, func(t *testing.T) {
			a, err := analyzeFile(t, testenv.MakeInput(t, dir, c.in))
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			if a.Remux() || a.NotMP4 {
				t.Fatalf("remux %v, not MP4 %v; want a transcode", a.Remux(), a.NotMP4)
			}
			reasons := strings.Join(a.Transcode, "; ")
			for _, w := range c.want {
				if !strings.Contains(reasons, w) {
					t.Errorf("reasons %q lack %q", reasons, w)
				}
			}
		})
	}
	t.Run("hevc-main10.mp4", func(t *testing.T) {
		// HEVC is served as it is to the players that take it (the ladder
		// adds H.264 for the others), 10-bit included.
		a, err := analyzeFile(t, testenv.MakeInput(t, dir, testenv.InputKind(t, "hevc-main10.mp4")))
		if err != nil || !a.Remux() {
			t.Fatalf("got %v, transcode %q; want a remux", err, a.Transcode)
		}
	})
}

// TestAnalyze_RefusesWhatNoOneCanDecode: encrypted media and files cut
// short are the upload's fault, with a sentence saying what to do, also
// when no stream of theirs could be served as it is.
func TestAnalyze_RefusesWhatNoOneCanDecode(t *testing.T) {
	dir := t.TempDir()
	t.Run("encrypted", func(t *testing.T) {
		path := testenv.MakeInput(t, dir, testenv.Input{Name: "cenc.mp4", Video: []string{"-c:v", "libx264", "-preset", "ultrafast"},
			Audio: []testenv.Tone{{}}, Extra: []string{"-encryption_scheme", "cenc-aes-ctr",
				"-encryption_key", "76a6c65c5ea762046bd749a2e632ccbb", "-encryption_kid", "a7e61c373e219033c21091fa607bf3b8"}})
		_, err := analyzeFile(t, path)
		var ie *packager.InputError
		if !errors.As(err, &ie) || !errors.Is(err, probe.ErrEncrypted) || !strings.Contains(ie.Reason, "without DRM") {
			t.Fatalf("got %v, want an input error about DRM", err)
		}
	})
	t.Run("prores cut short", func(t *testing.T) {
		in := testenv.InputKind(t, "prores-pcm16.mov")
		in.Extra = []string{"-movflags", "+faststart"} // the moov survives the cut
		path := testenv.MakeInput(t, dir, in)
		data, err := os.ReadFile(path)
		must(t, err)
		cut := filepath.Join(dir, "cut.mov")
		must(t, os.WriteFile(cut, data[:len(data)*6/10], 0o644))
		_, err = analyzeFile(t, cut)
		var trunc *probe.TruncatedError
		if !packager.IsInputError(err) || !errors.As(err, &trunc) || trunc.MoovLost {
			t.Fatalf("got %v, want the file recognised as cut short after its moov", err)
		}
	})
}
