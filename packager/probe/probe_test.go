package probe

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
)

func TestProbe_ReadsTracksAndDetectsTruncation(t *testing.T) {
	for _, name := range []string{"tiny.mp4", "tiny-faststart.mp4"} {
		data, err := os.ReadFile("../testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Probe(context.Background(), bytes.NewReader(data), int64(len(data)), Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(m.Index.Tracks) != 2 || len(m.Transcode) != 0 {
			t.Fatalf("%s: %d tracks, transcode %v", name, len(m.Index.Tracks), m.Transcode)
		}
		for _, cut := range []int{len(data) / 2, len(data) - 1} {
			_, err := Probe(context.Background(), bytes.NewReader(data[:cut]), int64(cut), Options{})
			var trunc *TruncatedError
			if !errors.As(err, &trunc) {
				t.Fatalf("%s cut at %d: got %v, want TruncatedError", name, cut, err)
			}
		}
	}
}

// FuzzProbe: any bytes give a description or an error, never a panic; a
// description's samples all lie within the file.
func FuzzProbe(f *testing.F) {
	for _, name := range []string{"tiny.mp4", "tiny-faststart.mp4"} {
		data, err := os.ReadFile("../testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Probe(context.Background(), bytes.NewReader(data), int64(len(data)), Options{MaxMoovBytes: 1 << 20, MaxSamples: 1 << 16})
		if err != nil {
			return
		}
		for _, tr := range m.Index.Tracks {
			for _, s := range tr.Samples {
				if s.Offset < 0 || s.Offset+int64(s.Size) > int64(len(data)) {
					t.Fatalf("sample outside the file: %+v", s)
				}
			}
		}
	})
}
