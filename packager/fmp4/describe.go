package fmp4

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/mp4"
)

// maxInitBytes bounds an init segment read by DescribeInit.
const maxInitBytes = 1 << 20

// Described is what a master playlist says of a CMAF init segment.
type Described struct {
	// Codecs is the RFC 6381 list, e.g. "avc1.640028,mp4a.40.2".
	Codecs        string
	Width, Height int
}

// DescribeInit reads an init segment (ftyp + moov) written by an encoder
// and names its codecs and picture size.
func DescribeInit(r io.Reader) (Described, error) {
	var d Described
	raw, err := io.ReadAll(io.LimitReader(r, maxInitBytes+1))
	if err != nil {
		return d, err
	}
	if len(raw) > maxInitBytes {
		return d, fmt.Errorf("init segment larger than %d bytes", maxInitBytes)
	}
	f, err := mp4.DecodeFile(bytes.NewReader(raw))
	if err != nil {
		return d, fmt.Errorf("init segment: %w", err)
	}
	if f.Moov == nil {
		return d, fmt.Errorf("init segment has no moov")
	}
	var codecs []string
	for _, trak := range f.Moov.Traks {
		if trak.Mdia == nil || trak.Mdia.Minf == nil || trak.Mdia.Minf.Stbl == nil || trak.Mdia.Minf.Stbl.Stsd == nil {
			continue
		}
		stsd := trak.Mdia.Minf.Stbl.Stsd
		switch {
		case stsd.AvcX != nil && stsd.AvcX.AvcC != nil:
			c := stsd.AvcX.AvcC.DecConfRec
			codecs = append(codecs, fmt.Sprintf("avc1.%02x%02x%02x", c.AVCProfileIndication, c.ProfileCompatibility, c.AVCLevelIndication))
			d.Width, d.Height = int(stsd.AvcX.Width), int(stsd.AvcX.Height)
		case stsd.Mp4a != nil && stsd.Mp4a.Esds != nil && stsd.Mp4a.Esds.DecConfigDescriptor != nil &&
			stsd.Mp4a.Esds.DecConfigDescriptor.DecSpecificInfo != nil:
			asc, err := aac.DecodeAudioSpecificConfig(bytes.NewReader(stsd.Mp4a.Esds.DecConfigDescriptor.DecSpecificInfo.DecConfig))
			if err != nil {
				return d, fmt.Errorf("init segment audio: %w", err)
			}
			codecs = append(codecs, fmt.Sprintf("mp4a.40.%d", asc.ObjectType))
		default:
			return d, fmt.Errorf("init segment track of an unexpected format")
		}
	}
	if len(codecs) == 0 {
		return d, fmt.Errorf("init segment has no track")
	}
	d.Codecs = strings.Join(codecs, ",")
	return d, nil
}
