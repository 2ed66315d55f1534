package fmp4

import (
	"bytes"
	"fmt"

	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/streamfront/streamfront/packager/index"
)

// trackID is the one track of every init segment we write (one track per
// playlist: audio is its own rendition group).
const trackID = 1

// Init returns the init segment (ftyp + moov) of track t.
func Init(t *index.Track) ([]byte, error) {
	entry, err := mp4.DecodeBox(0, bytes.NewReader(t.SampleEntry))
	if err != nil {
		return nil, fmt.Errorf("fmp4: sample entry: %w", err)
	}
	init := mp4.NewMP4Init()
	init.AddChild(mp4.NewFtyp("iso6", 0, []string{"iso6", "cmfc", "mp41"}))
	moov := mp4.NewMoovBox()
	init.AddChild(moov)
	mvhd := mp4.CreateMvhd()
	mvhd.Timescale = 1000
	moov.AddChild(mvhd)
	moov.AddChild(mp4.NewMvexBox())
	kind := "video"
	if t.Kind == index.Audio {
		kind = "audio"
	}
	lang := t.Language
	if len(lang) != 3 {
		lang = "und"
	}
	trak := init.AddEmptyTrack(t.Timescale, kind, lang)
	if t.Kind == index.Video {
		trak.Tkhd.Width = mp4.Fixed32(uint32(t.Width) << 16)
		trak.Tkhd.Height = mp4.Fixed32(uint32(t.Height) << 16)
	}
	trak.Mdia.Minf.Stbl.Stsd.AddChild(entry)
	var buf bytes.Buffer
	if err := init.Encode(&buf); err != nil {
		return nil, fmt.Errorf("fmp4: encode init: %w", err)
	}
	return buf.Bytes(), nil
}
