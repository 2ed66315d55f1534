package mpegts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/asticode/go-astits"
)

// TestPacketWriter_MatchesPlanAndParses writes PES packets of every length
// around the packet boundaries, with each combination of adaptation field
// contents, and checks that the transport packets are as many as planned
// and that astits (an independent demuxer) reads back the same PES.
func TestPacketWriter_MatchesPlanAndParses(t *testing.T) {
	var lengths []int64
	for n := int64(0); n <= 2*packetPayload+20; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, maxPESLength-19, maxPESLength-14, maxPESLength-13, maxPESLength, 100_000)
	type flags struct{ video, pcr, keyframe, dts bool }
	var cases []flags
	for i := range 16 {
		f := flags{video: i&1 != 0, pcr: i&2 != 0, keyframe: i&4 != 0, dts: i&8 != 0}
		if !f.video && (f.dts || f.pcr) {
			continue // audio has no DTS and, beside video, no PCR
		}
		cases = append(cases, f)
	}
	for _, f := range cases {
		for _, n := range lengths {
			if !f.video && n > maxPESLength-14 {
				continue
			}
			name := fmt.Sprintf("%+v/%d", f, n)
			p := pes{video: f.video, pcr: f.pcr, keyframe: f.keyframe, esLen: n, pts: 1<<33 + 5000, dts: 1<<33 + 5000}
			if f.dts {
				p.dts -= 3600
			}
			pid := pidAudio
			if f.video {
				pid = pidVideo
			}
			data := make([]byte, n)
			for i := range data {
				data[i] = byte(i % 251)
			}
			var buf bytes.Buffer
			tab, err := tables(true, false, true)
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(tab)
			pw := newPacketWriter(&buf)
			if err := pw.begin(&p, pid); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			// Uneven writes, crossing packet boundaries anywhere.
			for rest := data; len(rest) > 0; {
				k := min(len(rest), 1+len(rest)%97)
				if err := pw.write(rest[:k]); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				rest = rest[k:]
			}
			if err := pw.end(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got, want := int64(buf.Len()-tablesLen), p.packets()*packetSize; got != want {
				t.Fatalf("%s: %d bytes, planned %d", name, got, want)
			}
			if err := pw.write([]byte{0}); !errors.Is(err, errOverrun) {
				t.Fatalf("%s: a byte past the plan gives %v, want errOverrun", name, err)
			}
			checkPackets(t, name, buf.Bytes()[tablesLen:], &p, pid)
			checkPES(t, name, buf.Bytes(), &p, data)
		}
	}
}

func checkPackets(t *testing.T, name string, b []byte, p *pes, pid uint16) {
	t.Helper()
	dmx := astits.NewDemuxer(context.Background(), bytes.NewReader(b), astits.DemuxerOptPacketSize(packetSize))
	for i := 0; ; i++ {
		pkt, err := dmx.NextPacket()
		if errors.Is(err, astits.ErrNoMorePackets) {
			return
		}
		if err != nil {
			t.Fatalf("%s: packet %d: %v", name, i, err)
		}
		h := pkt.Header
		if h.PID != pid || h.ContinuityCounter != uint8(i%16) || h.PayloadUnitStartIndicator != (i == 0) || !h.HasPayload {
			t.Fatalf("%s: packet %d header %+v", name, i, h)
		}
		af := pkt.AdaptationField
		if i == 0 && (p.pcr || p.keyframe) {
			if af == nil || af.RandomAccessIndicator != p.keyframe || af.HasPCR != p.pcr {
				t.Fatalf("%s: first packet's adaptation field %+v", name, af)
			}
			if p.pcr && af.PCR.Base != (p.dts-pcrLead)&(1<<33-1) {
				t.Fatalf("%s: PCR %d, want %d", name, af.PCR.Base, p.dts-pcrLead)
			}
		} else if af != nil && (af.RandomAccessIndicator || af.HasPCR) {
			t.Fatalf("%s: packet %d has flags in its adaptation field", name, i)
		}
	}
}

func checkPES(t *testing.T, name string, b []byte, p *pes, data []byte) {
	t.Helper()
	dmx := astits.NewDemuxer(context.Background(), bytes.NewReader(b))
	for {
		d, err := dmx.NextData()
		if err != nil {
			t.Fatalf("%s: no PES read back: %v", name, err)
		}
		if d.PES == nil {
			continue
		}
		oh := d.PES.Header.OptionalHeader
		wantPTS, wantDTS := p.pts&(1<<33-1), p.dts&(1<<33-1)
		if oh.PTS == nil || oh.PTS.Base != wantPTS || (p.dts != p.pts) != (oh.DTS != nil) || oh.DTS != nil && oh.DTS.Base != wantDTS {
			t.Fatalf("%s: PES timestamps %+v", name, oh)
		}
		if !bytes.Equal(d.PES.Data, data) {
			t.Fatalf("%s: PES data of %d bytes, want %d", name, len(d.PES.Data), len(data))
		}
		return
	}
}

func TestADTSHeader_LengthMatchesMp4ff(t *testing.T) {
	for _, cfg := range []struct {
		rate     int
		channels byte
	}{{48000, 2}, {44100, 1}, {24000, 6}} {
		tmpl, err := aac.NewADTSHeader(cfg.rate, cfg.channels, aac.AAClc, 0)
		if err != nil {
			t.Fatal(err)
		}
		c := &audioConfig{}
		copy(c.adts[:], tmpl.Encode())
		for _, payload := range []int{0, 1, 7, 255, 256, 371, 1024, 2047, 2048, maxADTSPayload} {
			want, err := aac.NewADTSHeader(cfg.rate, cfg.channels, aac.AAClc, uint16(payload))
			if err != nil {
				t.Fatal(err)
			}
			var got [adtsHeaderLen]byte
			c.withLength(got[:], payload)
			if !bytes.Equal(got[:], want.Encode()) {
				t.Errorf("%+v payload %d: header % x, mp4ff writes % x", cfg, payload, got, want.Encode())
			}
		}
	}
}
