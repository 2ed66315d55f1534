package live

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/bluenviron/gortmplib"
	rtmpcodecs "github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

// encoding is what an encoder sends, as far as packaging cares: the H.264
// parameter sets and the AAC configuration. Two connections with equal
// encodings can share one muxer (one init segment).
type encoding struct {
	video    *gortmplib.Track
	audio    *gortmplib.Track // nil: no sound
	sps, pps []byte
	aac      *mpeg4audio.AudioSpecificConfig
}

func (e encoding) same(o encoding) bool {
	if !bytes.Equal(e.sps, o.sps) || !bytes.Equal(e.pps, o.pps) || (e.aac == nil) != (o.aac == nil) {
		return false
	}
	return e.aac == nil || *e.aac == *o.aac
}

func (e encoding) videoName() string { return "H.264" }

func (e encoding) audioName() string {
	if e.aac == nil {
		return ""
	}
	return "AAC"
}

// supportedHint ends every codec refusal: what to send instead.
const supportedHint = "Streamfront takes H.264 video with AAC audio (in OBS: x264 or a hardware H.264 encoder, and AAC)"

// chooseEncoding accepts the tracks gortmplib found if they can be passed
// through: one H.264 video track and at most one AAC audio track. The error
// is the sentence the broadcaster reads in the stream's status.
func chooseEncoding(tracks []*gortmplib.Track) (encoding, error) {
	var enc encoding
	for _, t := range tracks {
		switch c := t.Codec.(type) {
		case *rtmpcodecs.H264:
			if enc.video != nil {
				return enc, fmt.Errorf("the stream has more than one video track; send one. %s", supportedHint)
			}
			enc.video, enc.sps, enc.pps = t, c.SPS, c.PPS
		case *rtmpcodecs.MPEG4Audio:
			if enc.audio != nil {
				return enc, fmt.Errorf("the stream has more than one audio track; send one. %s", supportedHint)
			}
			enc.audio, enc.aac = t, c.Config
		default:
			kind := "audio"
			if t.Codec.IsVideo() {
				kind = "video"
			}
			return enc, fmt.Errorf("%s codec %s is not supported. %s", kind, codecName(t.Codec), supportedHint)
		}
	}
	if enc.video == nil {
		return enc, fmt.Errorf("the stream has no video. %s", supportedHint)
	}
	return enc, nil
}

func codecName(c rtmpcodecs.Codec) string {
	switch c.(type) {
	case *rtmpcodecs.H265:
		return "H.265 (HEVC)"
	case *rtmpcodecs.AV1:
		return "AV1"
	case *rtmpcodecs.VP9:
		return "VP9"
	case *rtmpcodecs.Opus:
		return "Opus"
	case *rtmpcodecs.FLAC:
		return "FLAC"
	case *rtmpcodecs.MPEG1Audio:
		return "MP3"
	case *rtmpcodecs.AC3:
		return "AC-3"
	case *rtmpcodecs.G711:
		return "G.711"
	case *rtmpcodecs.LPCM:
		return "PCM"
	}
	return fmt.Sprintf("%T", c)
}

// describeAnalysisError turns a failure of gortmplib's stream analysis into
// a sentence for the broadcaster. gortmplib refuses the FLV codecs it does
// not know (Sorenson H.263, VP6, Speex…) with a plain error naming the
// codec's number; the number is all there is to name the codec.
func describeAnalysisError(err error) string {
	msg := err.Error()
	for _, kind := range []string{"video", "audio"} {
		prefix := "unsupported " + kind + " codec: "
		if i := strings.Index(msg, prefix); i >= 0 {
			id, perr := strconv.Atoi(strings.TrimSpace(msg[i+len(prefix):]))
			if perr != nil {
				break
			}
			return fmt.Sprintf("%s codec %s is not supported. %s", kind, flvCodecName(kind, id), supportedHint)
		}
	}
	return "the encoder's stream could not be read as RTMP (" + msg + ")"
}

// flvCodecName names an FLV codec ID (FLV specification v10.1, E.4.2 and
// E.4.3).
func flvCodecName(kind string, id int) string {
	if kind == "video" {
		switch id {
		case 2:
			return "Sorenson H.263 (flv1)"
		case 3:
			return "Screen Video"
		case 4:
			return "On2 VP6"
		case 5:
			return "On2 VP6 with alpha"
		case 6:
			return "Screen Video 2"
		}
	} else {
		switch id {
		case 1:
			return "ADPCM"
		case 4, 5, 6:
			return "Nellymoser"
		case 11:
			return "Speex"
		case 14:
			return "MP3 8 kHz"
		}
	}
	return "with FLV codec ID " + strconv.Itoa(id)
}

// size is the picture size the SPS says, or zeros when it cannot be read.
func (e encoding) size() (width, height int) {
	var sps h264.SPS
	if err := sps.Unmarshal(e.sps); err != nil {
		return 0, 0
	}
	return sps.Width(), sps.Height()
}
