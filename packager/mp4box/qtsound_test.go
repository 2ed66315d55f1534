package mp4box

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func mustBox(t testing.TB, typ string, parts ...[]byte) []byte {
	t.Helper()
	b, err := boxBytes(typ, bytes.Join(parts, nil))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// quickTimeMoov is a moov whose one track has a version-1 'mp4a' entry
// with its esds inside a 'wave' atom, as ffmpeg writes MOV.
func quickTimeMoov(t testing.TB, esds []byte) []byte {
	fields := make([]byte, sampleEntryFields+16)
	binary.BigEndian.PutUint16(fields[6:], 1)       // data reference index
	binary.BigEndian.PutUint16(fields[8:], 1)       // version 1
	binary.BigEndian.PutUint16(fields[16:], 2)      // channels
	binary.BigEndian.PutUint16(fields[18:], 16)     // sample size
	binary.BigEndian.PutUint16(fields[20:], 0xfffe) // compression id -2
	binary.BigEndian.PutUint32(fields[24:], 48000<<16)
	wave := mustBox(t, "wave", mustBox(t, "frma", []byte("mp4a")), mustBox(t, "mp4a", make([]byte, 4)), esds, make([]byte, 8))
	entry := mustBox(t, "mp4a", fields, wave, mustBox(t, "chan", make([]byte, 12)))
	stsd := mustBox(t, "stsd", []byte{0, 0, 0, 0, 0, 0, 0, 1}, entry)
	stbl := mustBox(t, "stbl", stsd, mustBox(t, "stco", make([]byte, 8)))
	return mustBox(t, "moov", mustBox(t, "mvhd", make([]byte, 100)),
		mustBox(t, "trak", mustBox(t, "mdia", mustBox(t, "minf", stbl))))
}

func TestNormalizeSound_RewritesQuickTimeEntriesAsISO(t *testing.T) {
	esds := mustBox(t, "esds", []byte{0, 0, 0, 0, 3, 25, 0, 1, 0, 4, 17, 0x40, 0x15})
	moov := quickTimeMoov(t, esds)
	orig := append([]byte(nil), moov...)
	got, err := NormalizeSound(moov)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(moov, orig) {
		t.Fatal("the input was modified")
	}
	i := bytes.Index(got, []byte("mp4a"))
	entry := got[i-4:]
	entry = entry[:binary.BigEndian.Uint32(entry)]
	body := entry[8:]
	if v := binary.BigEndian.Uint16(body[8:]); v != 0 {
		t.Fatalf("version %d, want 0", v)
	}
	kids, err := Children(body[sampleEntryFields:], 0)
	if err != nil || len(kids) != 2 || kids[0].Type != "esds" || kids[1].Type != "chan" {
		t.Fatalf("children %+v (%v), want esds then chan", kids, err)
	}
	if !bytes.Equal(body[sampleEntryFields:sampleEntryFields+len(esds)], esds) {
		t.Fatal("esds changed")
	}
	// Every container's size was recomputed: the tree parses to the end.
	top, err := Children(got, 0)
	if err != nil || len(top) != 1 || top[0].Size != int64(len(got)) {
		t.Fatalf("rewritten moov does not parse: %+v %v", top, err)
	}
	if again, err := NormalizeSound(got); err != nil || &again[0] != &got[0] {
		t.Fatalf("an ISO moov is not returned as it is (%v)", err)
	}
}

func FuzzNormalizeSound(f *testing.F) {
	f.Add(quickTimeMoov(f, mustBox(f, "esds", make([]byte, 12))))
	f.Add(moovOf(f, readTiny(f)))
	f.Fuzz(func(t *testing.T, moov []byte) {
		orig := append([]byte(nil), moov...)
		got, err := NormalizeSound(moov)
		if !bytes.Equal(moov, orig) {
			t.Fatal("the input was modified")
		}
		if err != nil {
			return
		}
		top, err := Children(got, 0)
		if err != nil || len(top) != 1 || top[0].Type != "moov" {
			t.Fatalf("output does not parse as one moov: %v", err)
		}
		again, err := NormalizeSound(got)
		if err != nil || !bytes.Equal(again, got) {
			t.Fatalf("not idempotent (%v)", err)
		}
	})
}
