package mpegts

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/hevc"
	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/streamfront/streamfront/packager/index"
)

// Errors of NewSegment that callers branch on.
var (
	// ErrNoSegment means the segment number is out of range.
	ErrNoSegment = errors.New("mpegts: no such segment")
	// ErrUnsupported means a track's codec or configuration cannot be
	// carried in MPEG-TS by this package (only H.264, HEVC and AAC are).
	ErrUnsupported = errors.New("mpegts: unsupported track")
	// ErrCorrupt means the index contradicts itself or the media: a sample
	// entry that does not parse, a sample too large for its container, a
	// NAL unit running past its sample.
	ErrCorrupt = errors.New("mpegts: corrupt track")
)

// NAL unit types this package writes or drops.
const (
	avcNALAUD  = 9
	hevcNALAUD = 35
)

// Access unit delimiters: H.264 with primary_pic_type 7 (any slice type),
// HEVC with pic_type 2 (I, P or B), each followed by the RBSP stop bit.
var (
	avcAUD  = []byte{avcNALAUD, 0xf0}
	hevcAUD = []byte{hevcNALAUD << 1, 0x01, 0x50}
)

// maxParamSet bounds one parameter set (the avcC/hvcC length field is 16
// bits; this keeps a corrupt entry from multiplying it per keyframe).
const maxParamSet = 1 << 16

// videoConfig is what turning a video track's samples into Annex B needs.
type videoConfig struct {
	hevc bool
	// lengthSize is the size of the NAL unit length prefix in samples: 1, 2
	// or 4.
	lengthSize int
	// paramSets are inserted before every keyframe, in order: (VPS,) SPS,
	// PPS. Empty for avc3/hev1 entries that keep them in band.
	paramSets [][]byte
}

// aud is the access unit delimiter written at the start of every picture.
func (c *videoConfig) aud() []byte {
	if c.hevc {
		return hevcAUD
	}
	return avcAUD
}

// isAUD reports whether a NAL unit whose first byte is b is an access unit
// delimiter (the sample's own, dropped: ours is written instead).
func (c *videoConfig) isAUD(b byte) bool {
	if c.hevc {
		return (b>>1)&0x3f == hevcNALAUD
	}
	return b&0x1f == avcNALAUD
}

// startCodeLen is the Annex B start code written for each NAL unit of a
// sample: four bytes where the length prefix is four (the Annex B size
// equals the sample size), three otherwise.
func (c *videoConfig) startCodeLen() int {
	if c.lengthSize >= 4 {
		return 4
	}
	return 3
}

// paramSetBytes is what the parameter sets add before a keyframe.
func (c *videoConfig) paramSetBytes() int64 {
	var n int64
	for _, ps := range c.paramSets {
		n += 4 + int64(len(ps))
	}
	return n
}

// maxAnnexB is the most bytes a sample of size n can become in Annex B
// (without AUD or parameter sets). A four-byte length prefix becomes a
// four-byte start code; a shorter one becomes a three-byte start code, at
// most once per lengthSize+1 bytes (a NAL unit of at least one byte).
func (c *videoConfig) maxAnnexB(n uint32) int64 {
	grow := int64(c.startCodeLen() - c.lengthSize)
	if grow <= 0 {
		return int64(n)
	}
	return int64(n) + int64(n)/int64(c.lengthSize+1)*grow
}

// audioConfig is what framing a track's AAC samples in ADTS needs.
type audioConfig struct {
	// adts is the ADTS header with a zero frame length; withLength fills it
	// in per frame.
	adts [adtsHeaderLen]byte
}

const (
	adtsHeaderLen = 7
	// maxADTSPayload is the largest AAC frame an ADTS header can carry: its
	// 13-bit frame length counts the header too.
	maxADTSPayload = 1<<13 - 1 - adtsHeaderLen
)

// withLength writes the header of a frame of payload bytes into dst.
func (c *audioConfig) withLength(dst []byte, payload int) {
	copy(dst, c.adts[:])
	n := payload + adtsHeaderLen
	dst[3] = dst[3]&0xfc | byte(n>>11)&0x03
	dst[4] = byte(n >> 3)
	dst[5] = dst[5]&0x1f | byte(n&0x07)<<5
}

// decodeSampleEntry decodes a track's stsd child box.
func decodeSampleEntry(t *index.Track) (mp4.Box, error) {
	if len(t.SampleEntry) < 8 {
		return nil, fmt.Errorf("%w: %s sample entry of %d bytes", ErrCorrupt, t.Kind, len(t.SampleEntry))
	}
	box, err := mp4.DecodeBox(0, bytes.NewReader(t.SampleEntry))
	if err != nil {
		return nil, fmt.Errorf("%w: %s sample entry: %v", ErrCorrupt, t.Kind, err)
	}
	return box, nil
}

// videoConfigOf reads the NAL length size and parameter sets of an H.264
// or HEVC track's sample entry.
func videoConfigOf(t *index.Track) (*videoConfig, error) {
	box, err := decodeSampleEntry(t)
	if err != nil {
		return nil, err
	}
	entry, ok := box.(*mp4.VisualSampleEntryBox)
	if !ok {
		return nil, fmt.Errorf("%w: video sample entry %q", ErrUnsupported, box.Type())
	}
	c := &videoConfig{}
	switch entry.Type() {
	case "avc1", "avc3":
		if entry.AvcC == nil {
			return nil, fmt.Errorf("%w: %s sample entry without avcC", ErrCorrupt, entry.Type())
		}
		// mp4ff decodes only four-byte NAL lengths (ErrLengthSize otherwise).
		c.lengthSize = 4
		c.paramSets = append(c.paramSets, entry.AvcC.SPSnalus...)
		c.paramSets = append(c.paramSets, entry.AvcC.PPSnalus...)
	case "hvc1", "hev1":
		if entry.HvcC == nil {
			return nil, fmt.Errorf("%w: %s sample entry without hvcC", ErrCorrupt, entry.Type())
		}
		c.hevc = true
		c.lengthSize = int(entry.HvcC.LengthSizeMinusOne) + 1
		for _, typ := range []hevc.NaluType{hevc.NALU_VPS, hevc.NALU_SPS, hevc.NALU_PPS} {
			for _, a := range entry.HvcC.NaluArrays {
				if a.NaluType() == typ {
					c.paramSets = append(c.paramSets, a.Nalus...)
				}
			}
		}
	default:
		return nil, fmt.Errorf("%w: video codec %q (H.264 and HEVC are carried)", ErrUnsupported, entry.Type())
	}
	if c.lengthSize != 1 && c.lengthSize != 2 && c.lengthSize != 4 {
		return nil, fmt.Errorf("%w: NAL length size %d", ErrCorrupt, c.lengthSize)
	}
	for _, ps := range c.paramSets {
		if len(ps) == 0 || len(ps) >= maxParamSet {
			return nil, fmt.Errorf("%w: parameter set of %d bytes", ErrCorrupt, len(ps))
		}
	}
	return c, nil
}

// audioConfigOf builds the ADTS header of an AAC track from the
// AudioSpecificConfig in its esds. HE-AAC (v1 and v2) is signalled the
// implicit way ADTS allows: AAC-LC at the core sample rate, the decoder
// finding SBR and PS in the frames.
func audioConfigOf(t *index.Track) (*audioConfig, error) {
	box, err := decodeSampleEntry(t)
	if err != nil {
		return nil, err
	}
	entry, ok := box.(*mp4.AudioSampleEntryBox)
	if !ok || entry.Type() != "mp4a" {
		return nil, fmt.Errorf("%w: audio codec %q (AAC is carried)", ErrUnsupported, box.Type())
	}
	if entry.Esds == nil || entry.Esds.DecConfigDescriptor == nil || entry.Esds.DecConfigDescriptor.DecSpecificInfo == nil {
		return nil, fmt.Errorf("%w: mp4a sample entry without an AudioSpecificConfig", ErrCorrupt)
	}
	if ot := entry.Esds.DecConfigDescriptor.ObjectType; ot != 0x40 {
		return nil, fmt.Errorf("%w: mp4a object type 0x%02x (MPEG-4 audio, 0x40, is carried)", ErrUnsupported, ot)
	}
	asc, err := aac.DecodeAudioSpecificConfig(bytes.NewReader(entry.Esds.DecConfigDescriptor.DecSpecificInfo.DecConfig))
	if err != nil {
		return nil, fmt.Errorf("%w: AudioSpecificConfig: %v", ErrUnsupported, err)
	}
	if asc.ChannelConfiguration == 0 || asc.ChannelConfiguration > 7 {
		// 0 puts the channel layout in a program config element, which ADTS
		// would need in every frame.
		return nil, fmt.Errorf("%w: AAC channel configuration %d", ErrUnsupported, asc.ChannelConfiguration)
	}
	h, err := aac.NewADTSHeader(asc.SamplingFrequency, asc.ChannelConfiguration, aac.AAClc, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: ADTS: %v", ErrUnsupported, err)
	}
	c := &audioConfig{}
	enc := h.Encode()
	if len(enc) != adtsHeaderLen {
		return nil, fmt.Errorf("mpegts: ADTS header of %d bytes", len(enc))
	}
	copy(c.adts[:], enc)
	return c, nil
}
