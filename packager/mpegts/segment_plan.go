package mpegts

import (
	"fmt"

	"github.com/streamfront/streamfront/packager/index"
)

// TimeOffset is added to every timestamp of a segment (90 kHz ticks):
// MPEG-TS times are the index's presentation times plus 10 s, as Apple's
// segmenter writes them, so that PCRs, which run ahead of decode times,
// never go below zero. A WebVTT track for these segments would map
// X-TIMESTAMP-MAP=MPEGTS=900000,LOCAL=00:00:00.000.
const TimeOffset = 10 * 90000

// pcrLead is how far the PCR runs ahead of the decode time of the video
// access unit that carries it: 100 ms, as mediacommon's muxer does.
const pcrLead = 90000 / 10

// maxAudioPES is the most ADTS bytes one audio PES gathers (ffmpeg's
// default pes_payload_size): several AAC frames share one PES header and
// one final transport packet's stuffing.
const maxAudioPES = 2930

// maxPESLength is the largest PES_packet_length; longer video PES packets
// say 0 (unbounded), which MPEG-TS allows for video only.
const maxPESLength = 1<<16 - 1

// pes is one PES packet of a segment: a video access unit, or a run of
// consecutive AAC frames. Everything that decides its transport packets is
// here, computed from the index alone.
type pes struct {
	first, end int   // its samples: track.Samples[first:end]
	pts, dts   int64 // 90 kHz, TimeOffset applied, before the 33-bit wrap
	esLen      int64 // elementary stream bytes: Annex B picture or ADTS frames
	video      bool
	pcr        bool // the first transport packet carries the PCR
	keyframe   bool // random access point; a video one gets parameter sets
}

// headerLen is the PES header: 9 bytes, then the PTS, then the DTS when it
// differs.
func (p *pes) headerLen() int {
	if p.dts != p.pts {
		return 19
	}
	return 14
}

// adaptationLen is the adaptation field its first transport packet needs
// before any stuffing: length and flags, and the PCR.
func (p *pes) adaptationLen() int {
	n := 0
	if p.pcr || p.keyframe {
		n = 2
	}
	if p.pcr {
		n += 6
	}
	return n
}

// packets is how many transport packets it takes: the first has room for
// 184 bytes less its adaptation field, the others for 184, and the last is
// filled up with adaptation field stuffing.
func (p *pes) packets() int64 {
	total := int64(p.headerLen()) + p.esLen
	room := int64(packetPayload - p.adaptationLen())
	if total <= room {
		return 1
	}
	return 1 + (total-room+packetPayload-1)/packetPayload
}

// to90k converts ticks of timescale to 90 kHz, rounding toward zero,
// without overflowing for any time an index can hold.
func to90k(ticks int64, timescale uint32) int64 {
	ts := int64(timescale)
	return ticks/ts*90000 + ticks%ts*90000/ts
}

// planVideo lists the PES packets of samples [first, end) of video track t
// whose first sample is decoded at dts (ticks).
//
// A picture's Annex B length is fixed here, before its bytes are read: our
// AUD, the parameter sets before a keyframe, and the most the sample can
// become (maxAnnexB: exactly its size with four-byte NAL lengths, the usual
// case). What the sample's bytes could change is only ever smaller — an
// AUD of its own is dropped, a shorter length prefix may give fewer start
// codes than the bound allows — and WriteTo makes it up with zero bytes
// after the last NAL unit (Annex B trailing_zero_8bits), so the picture
// has exactly the planned length whatever its contents.
func planVideo(t *index.Track, c *videoConfig, first, end int, dts int64) ([]pes, error) {
	out := make([]pes, 0, end-first)
	aud := int64(4 + len(c.aud()))
	params := c.paramSetBytes()
	for i := first; i < end; i++ {
		s := t.Samples[i]
		if s.CTO < 0 {
			return nil, fmt.Errorf("%w: video sample %d presented before it is decoded (composition offset %d)", ErrUnsupported, i, s.CTO)
		}
		p := pes{
			video:    true,
			first:    i,
			end:      i + 1,
			dts:      to90k(dts, t.Timescale) + TimeOffset,
			pts:      to90k(dts+int64(s.CTO), t.Timescale) + TimeOffset,
			esLen:    aud + c.maxAnnexB(s.Size),
			pcr:      true,
			keyframe: s.Sync,
		}
		if s.Sync {
			p.esLen += params
		}
		out = append(out, p)
		dts += int64(s.Dur)
	}
	return out, nil
}

// planAudio lists the PES packets of samples [first, end) of AAC track t
// whose first sample is decoded at dts (ticks): consecutive frames share a
// PES up to maxAudioPES bytes. pcr says whether audio carries the PCR (no
// video).
func planAudio(t *index.Track, first, end int, dts int64, pcr bool) ([]pes, error) {
	var out []pes
	for i := first; i < end; i++ {
		s := t.Samples[i]
		if s.Size > maxADTSPayload {
			return nil, fmt.Errorf("%w: AAC frame %d of %d bytes is more than ADTS can frame", ErrCorrupt, i, s.Size)
		}
		frame := int64(adtsHeaderLen) + int64(s.Size)
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.end == i && t.Samples[last.first].CTO == s.CTO && last.esLen+frame <= maxAudioPES {
				last.end++
				last.esLen += frame
				dts += int64(s.Dur)
				continue
			}
		}
		pts := to90k(dts+int64(s.CTO), t.Timescale) + TimeOffset
		out = append(out, pes{first: i, end: i + 1, pts: pts, dts: pts, esLen: frame, pcr: pcr, keyframe: true})
		dts += int64(s.Dur)
	}
	return out, nil
}

// interleave merges video and audio PES packets in decode order, video
// first on a tie: audio arrives with the pictures it plays beside.
func interleave(video, audio []pes) []pes {
	out := make([]pes, 0, len(video)+len(audio))
	for len(video) > 0 || len(audio) > 0 {
		if len(audio) == 0 || (len(video) > 0 && video[0].dts <= audio[0].dts) {
			out = append(out, video[0])
			video = video[1:]
		} else {
			out = append(out, audio[0])
			audio = audio[1:]
		}
	}
	return out
}
