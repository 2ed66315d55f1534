package index_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/streamfront/streamfront/packager/index"
	"github.com/streamfront/streamfront/packager/probe"
)

// tinyIndex is the planned index of the committed tiny MP4.
func tinyIndex(t testing.TB) *index.Index {
	t.Helper()
	data, err := os.ReadFile("../testdata/tiny.mp4")
	if err != nil {
		t.Fatal(err)
	}
	m, err := probe.Probe(context.Background(), bytes.NewReader(data), int64(len(data)), probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Index.Plan(500 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	return m.Index
}

func TestIndex_EncodeDecodeRoundTrip(t *testing.T) {
	ix := tinyIndex(t)
	enc := ix.Encode()
	back, err := index.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Encode(), enc) {
		t.Fatal("decode → encode does not give the same bytes")
	}
	if len(back.Tracks) != 2 || len(back.Tracks[0].Samples) != len(ix.Tracks[0].Samples) {
		t.Fatalf("tracks or samples lost: %d tracks", len(back.Tracks))
	}
}

func TestDecode_RefusesDamage(t *testing.T) {
	enc := tinyIndex(t).Encode()
	cases := map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XXXX"), enc[4:]...),
		"truncated": enc[:len(enc)/2],
		"flipped":   flip(enc, len(enc)/3),
	}
	for name, data := range cases {
		if _, err := index.Decode(data); err == nil {
			t.Errorf("%s: Decode accepted damaged input", name)
		}
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x40
	return c
}

// FuzzDecode: any bytes either decode to an index that passes Validate and
// survives a round trip, or give an error; never a panic or a huge
// allocation.
func FuzzDecode(f *testing.F) {
	f.Add(tinyIndex(f).Encode())
	f.Add([]byte("SFIX\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := index.Decode(data)
		if err != nil {
			return
		}
		if err := ix.Validate(); err != nil {
			t.Fatalf("Decode returned an index that fails Validate: %v", err)
		}
		if _, err := index.Decode(ix.Encode()); err != nil {
			t.Fatalf("re-encoded index does not decode: %v", err)
		}
	})
}
