package mp4box

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"testing"
)

func readTiny(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("../testdata/tiny.mp4")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func moovOf(t testing.TB, data []byte) []byte {
	t.Helper()
	boxes, err := ScanTop(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range boxes {
		if b.Type == "moov" {
			return data[b.Offset:b.End()]
		}
	}
	t.Fatal("no moov")
	return nil
}

func TestScanTop_ListsBoxesAndSpotsTruncation(t *testing.T) {
	data := readTiny(t)
	boxes, err := ScanTop(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, b := range boxes {
		types = append(types, b.Type)
	}
	if len(types) < 3 || types[0] != "ftyp" || types[len(types)-1] != "moov" {
		t.Fatalf("unexpected layout %v", types)
	}
	_, err = ScanTop(bytes.NewReader(data[:len(data)-10]), int64(len(data)-10))
	var trunc *TruncatedError
	if !errors.As(err, &trunc) || trunc.Box.Type != "moov" {
		t.Fatalf("want truncation inside moov, got %v", err)
	}
	if _, err := ScanTop(bytes.NewReader([]byte("hello world, not a video")), 24); !errors.Is(err, ErrNotMP4) {
		t.Fatalf("text: got %v, want ErrNotMP4", err)
	}
}

func TestShiftChunkOffsets_MovesEveryOffset(t *testing.T) {
	moov := append([]byte(nil), moovOf(t, readTiny(t))...)
	before, _ := chunkTables(append([]byte(nil), moov...))
	if err := ShiftChunkOffsets(moov, 1000); err != nil {
		t.Fatal(err)
	}
	after, _ := chunkTables(moov)
	for i := range before {
		for j := 0; j < before[i].count; j++ {
			b := binary.BigEndian.Uint32(before[i].data[4*j:])
			a := binary.BigEndian.Uint32(after[i].data[4*j:])
			if a != b+1000 {
				t.Fatalf("offset %d moved from %d to %d", j, b, a)
			}
		}
	}
	if err := ShiftChunkOffsets(moov, 1<<40); err == nil {
		t.Fatal("a 32-bit overflow must be refused")
	}
}

func FuzzScanTop(f *testing.F) {
	f.Add(readTiny(f))
	f.Add([]byte{0, 0, 0, 1, 'f', 't', 'y', 'p', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		boxes, _ := ScanTop(bytes.NewReader(data), int64(len(data)))
		var end int64
		for _, b := range boxes {
			if b.Offset != end || b.End() > int64(len(data)) || b.Size < b.Header {
				t.Fatalf("box %+v does not tile the file", b)
			}
			end = b.End()
		}
	})
}

func FuzzShiftChunkOffsets(f *testing.F) {
	f.Add(moovOf(f, readTiny(f)), int64(4096))
	f.Fuzz(func(t *testing.T, moov []byte, delta int64) {
		orig := append([]byte(nil), moov...)
		if err := ShiftChunkOffsets(moov, delta); err != nil && !bytes.Equal(orig, moov) {
			t.Fatal("a refused shift changed the input")
		}
		_, _ = Rotations(moov)
	})
}
