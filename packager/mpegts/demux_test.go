package mpegts_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/asticode/go-astits"
	mcmpegts "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"

	"github.com/streamfront/streamfront/packager/index"
	"github.com/streamfront/streamfront/packager/mpegts"
)

// checkDemux reads the segments back with mediacommon's demuxer, an
// implementation independent of ours, and checks that together they hold
// every sample of the index exactly once, in order, with its bytes intact
// and its PTS/DTS at the index's time (90 kHz, plus TimeOffset); pictures
// carry parameter sets exactly when they are keyframes.
func (fx *fixture) checkDemux(t *testing.T, dir string, samplesHaveAUD bool) {
	var vi, ai int // the next sample each track must deliver
	var vDTS, aDTS []int64
	if fx.vTrack != nil {
		vDTS = decodeTimes(fx.vTrack)
	}
	if fx.aTrack != nil {
		aDTS = decodeTimes(fx.aTrack)
	}
	padding, samplesWithAUD := 0, 0
	hevc := fx.video.VCodec == "libx265"

	onVideo := func(n int) func(pts, dts int64, au [][]byte) error {
		return func(pts, dts int64, au [][]byte) error {
			if vi >= len(fx.vTrack.Samples) {
				t.Fatalf("segment %d: more pictures than samples", n)
			}
			s := fx.vTrack.Samples[vi]
			wantDTS := ts90k(vDTS[vi], fx.vTrack.Timescale)
			wantPTS := ts90k(vDTS[vi]+int64(s.CTO), fx.vTrack.Timescale)
			if pts != wantPTS || dts != wantDTS {
				t.Errorf("segment %d picture %d: PTS/DTS %d/%d, want %d/%d", n, vi, pts, dts, wantPTS, wantDTS)
			}
			want, hadAUD := sampleNALUs(t, fx.rend, s, hevc)
			if hadAUD {
				samplesWithAUD++
			}
			if len(au) < len(want) {
				t.Fatalf("segment %d picture %d: %d NAL units, want at least %d", n, vi, len(au), len(want))
			}
			params := au[:len(au)-len(want)]
			got := au[len(au)-len(want):]
			// Trailing zero bytes after the picture's last NAL unit are the
			// bytes of dropped AUDs.
			last := got[len(got)-1]
			trimmed := bytes.TrimRight(last, "\x00")
			padding += len(last) - len(trimmed)
			got[len(got)-1] = trimmed
			for k := range want {
				if !bytes.Equal(got[k], want[k]) {
					t.Fatalf("segment %d picture %d: NAL unit %d differs from the sample's", n, vi, k)
				}
			}
			if s.Sync != (len(params) > 0) {
				t.Errorf("segment %d picture %d: keyframe %v with %d parameter sets before it", n, vi, s.Sync, len(params))
			}
			for _, p := range params {
				if !isParamSet(p, hevc) {
					t.Errorf("segment %d picture %d: unexpected NAL unit type before the sample's", n, vi)
				}
			}
			vi++
			return nil
		}
	}

	for n := range fx.ref().Segments {
		f, err := os.Open(filepath.Join(dir, strconv.Itoa(n)+".ts"))
		must(t, err)
		r := &mcmpegts.Reader{R: f}
		must(t, r.Initialize())
		r.OnDecodeError(func(err error) { t.Errorf("segment %d: %v", n, err) })
		for _, tr := range r.Tracks() {
			switch tr.Codec.(type) {
			case *codecs.H264:
				r.OnDataH264(tr, onVideo(n))
			case *codecs.H265:
				r.OnDataH265(tr, onVideo(n))
			case *codecs.MPEG4Audio:
				r.OnDataMPEG4Audio(tr, func(pts int64, aus [][]byte) error {
					if want := ts90k(aDTS[ai]+int64(fx.aTrack.Samples[ai].CTO), fx.aTrack.Timescale); pts != want {
						t.Errorf("segment %d audio frame %d: PTS %d, want %d", n, ai, pts, want)
					}
					for _, au := range aus {
						s := fx.aTrack.Samples[ai]
						want := make([]byte, s.Size)
						_, err := fx.rend.ReadAt(want, s.Offset)
						must(t, err)
						if !bytes.Equal(au, want) {
							t.Fatalf("segment %d audio frame %d differs from the sample", n, ai)
						}
						ai++
					}
					return nil
				})
			default:
				t.Fatalf("segment %d: unexpected codec %T", n, tr.Codec)
			}
		}
		for {
			err := r.Read()
			if errors.Is(err, astits.ErrNoMorePackets) || errors.Is(err, io.EOF) {
				break
			}
			must(t, err)
		}
		f.Close()
	}
	if fx.vTrack != nil && vi != len(fx.vTrack.Samples) {
		t.Errorf("segments hold %d pictures, the track %d", vi, len(fx.vTrack.Samples))
	}
	if fx.aTrack != nil && ai != len(fx.aTrack.Samples) {
		t.Errorf("segments hold %d audio frames, the track %d", ai, len(fx.aTrack.Samples))
	}
	audLen := 6
	if hevc {
		audLen = 7
	}
	if padding != samplesWithAUD*audLen {
		t.Errorf("%d bytes of padding for %d samples with their own AUD", padding, samplesWithAUD)
	}
	if samplesHaveAUD != (samplesWithAUD > 0) {
		t.Errorf("%d samples have their own AUD, expected some: %v", samplesWithAUD, samplesHaveAUD)
	}
}

// sampleNALUs returns the NAL units of a video sample (four-byte lengths)
// but its access unit delimiters, and whether it had one.
func sampleNALUs(t *testing.T, r io.ReaderAt, s index.Sample, hevc bool) (nalus [][]byte, hadAUD bool) {
	b := make([]byte, s.Size)
	_, err := r.ReadAt(b, s.Offset)
	must(t, err)
	for len(b) > 0 {
		if len(b) < 4 {
			t.Fatal("sample ends inside a length prefix")
		}
		n := int(binary.BigEndian.Uint32(b))
		b = b[4:]
		if n > len(b) {
			t.Fatal("NAL unit runs past the sample")
		}
		nalu := b[:n]
		b = b[n:]
		if isAUD(nalu, hevc) {
			hadAUD = true
			continue
		}
		nalus = append(nalus, nalu)
	}
	return nalus, hadAUD
}

func nalType(nalu []byte, hevc bool) int {
	if hevc {
		return int(nalu[0]>>1) & 0x3f
	}
	return int(nalu[0]) & 0x1f
}

func isAUD(nalu []byte, hevc bool) bool {
	if hevc {
		return nalType(nalu, true) == 35
	}
	return nalType(nalu, false) == 9
}

func isParamSet(nalu []byte, hevc bool) bool {
	typ := nalType(nalu, hevc)
	if hevc {
		return typ >= 32 && typ <= 34
	}
	return typ == 7 || typ == 8
}

func decodeTimes(t *index.Track) []int64 {
	out := make([]int64, len(t.Samples))
	dts := t.StartDTS
	for i, s := range t.Samples {
		out[i] = dts
		dts += int64(s.Dur)
	}
	return out
}

// ts90k is the MPEG-TS time of ticks: 90 kHz, plus TimeOffset, 33 bits.
func ts90k(ticks int64, timescale uint32) int64 {
	v := ticks * 90000 / int64(timescale)
	return (v + mpegts.TimeOffset) & (1<<33 - 1)
}
