package packager

import (
	"fmt"

	"github.com/streamfront/streamfront/packager/mp4box"
	"github.com/streamfront/streamfront/packager/probe"
)

// Layout describes a faststart MP4 rendition made of the source without
// copying its media: Head (ftyp + a moov whose chunk offsets point into the
// new layout) followed by bytes [BodyOffset, BodyOffset+BodyLength) of the
// source. A source that is already faststart has an empty Head and the
// whole file as its body.
type Layout struct {
	Head       []byte
	BodyOffset int64
	BodyLength int64
}

// Size is the rendition's length.
func (l Layout) Size() int64 { return int64(len(l.Head)) + l.BodyLength }

// Delta is what to add to a source offset to get its rendition offset.
func (l Layout) Delta() int64 { return int64(len(l.Head)) - l.BodyOffset }

// faststart works out the layout of a probed source.
func faststart(m *probe.Media) (Layout, error) {
	var ftyp *mp4box.Box
	firstMdat := int64(-1)
	for i, b := range m.Boxes {
		switch b.Type {
		case "ftyp":
			if ftyp == nil {
				ftyp = &m.Boxes[i]
			}
		case "mdat":
			if firstMdat < 0 {
				firstMdat = b.Offset
			}
		}
	}
	if firstMdat < 0 || m.Moov.Offset < firstMdat {
		// Already faststart: serve the file as it is.
		return Layout{BodyOffset: 0, BodyLength: m.Size}, nil
	}
	for _, b := range m.Boxes {
		if b.Type == "mdat" && b.Offset > m.Moov.Offset {
			return Layout{}, fmt.Errorf("media is stored on both sides of the moov and is rewritten")
		}
	}
	bodyStart := int64(0)
	if ftyp != nil && ftyp.Offset == 0 && len(m.Ftyp) > 0 {
		bodyStart = ftyp.End()
	}
	headLen := bodyStart + int64(len(m.MoovBytes))
	// The moov is copied once, into the head, and its offsets moved there.
	head := make([]byte, 0, headLen)
	if bodyStart > 0 {
		head = append(head, m.Ftyp...)
	}
	head = append(head, m.MoovBytes...)
	if err := mp4box.ShiftChunkOffsets(head[len(head)-len(m.MoovBytes):], headLen-bodyStart); err != nil {
		return Layout{}, fmt.Errorf("chunk offsets cannot move to the front (%v) and the file is rewritten", err)
	}
	return Layout{Head: head, BodyOffset: bodyStart, BodyLength: m.Moov.Offset - bodyStart}, nil
}
