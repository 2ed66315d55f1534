package fmp4_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/streamfront/streamfront/internal/testenv"
	"github.com/streamfront/streamfront/packager/fmp4"
)

func TestDescribeInit_NamesWhatFFmpegWrote(t *testing.T) {
	ffmpeg := testenv.Require(t, "ffmpeg")
	dir := t.TempDir()
	src := testenv.MakeVideo(t, dir, testenv.Video{Seconds: 2, Width: 320, Height: 240, Faststart: true})
	out := filepath.Join(dir, "hls")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(ffmpeg, "-v", "error", "-i", src, "-c", "copy", "-f", "hls", "-hls_segment_type", "fmp4",
		"-hls_fmp4_init_filename", "init.mp4", filepath.Join(out, "stream.m3u8"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v %s", err, b)
	}
	f, err := os.Open(filepath.Join(out, "init.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := fmp4.DescribeInit(f)
	if err != nil {
		t.Fatal(err)
	}
	if d.Codecs != "avc1.64000d,mp4a.40.2" || d.Width != 320 || d.Height != 240 {
		t.Fatalf("described %+v", d)
	}
}

// FuzzDescribeInit: hostile init segments get an error, never a panic.
func FuzzDescribeInit(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "init.mp4"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := fmp4.DescribeInit(bytes.NewReader(b))
		if err == nil && d.Codecs == "" {
			t.Fatal("no error and no codecs")
		}
	})
}
