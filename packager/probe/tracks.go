package probe

import (
	"bytes"
	"fmt"
	"math"
	"time"

	"github.com/Eyevinn/mp4ff/aac"
	"github.com/Eyevinn/mp4ff/avc"
	"github.com/Eyevinn/mp4ff/hevc"
	"github.com/Eyevinn/mp4ff/mp4"

	"github.com/streamfront/streamfront/packager/index"
)

// describe fills Tracks, Index and Transcode from the decoded moov.
//
// The first video track and the first audio track are the ones served, as
// ffmpeg's defaults pick them too: when one of them cannot be remuxed (a
// codec browsers do not play, an edit list we do not bake) the file is
// re-encoded — its stream is never dropped in favour of serving the
// others. When neither can be remuxed, Index has no track and Transcode
// says why; only a file with no video or audio track at all is
// ErrNoStreams.
func (m *Media) describe(moov *mp4.MoovBox, rotations []int, opt Options) error {
	movieScale := moov.Mvhd.Timescale
	var video, audio *index.Track
	var edits []edit
	var reasons []string
	seen := map[string]bool{}
	for i, trak := range moov.Traks {
		info, entry := trackInfo(trak)
		if i < len(rotations) {
			info.Rotation = rotations[i]
		}
		m.Tracks = append(m.Tracks, info)
		ti := &m.Tracks[len(m.Tracks)-1]
		if (ti.Kind != "video" && ti.Kind != "audio") || seen[ti.Kind] {
			continue
		}
		seen[ti.Kind] = true
		if ti.Encrypted {
			return fmt.Errorf("%w: track %d (%s)", ErrEncrypted, ti.ID, ti.Format)
		}
		if entry == nil {
			reasons = append(reasons, ti.Why)
			m.noteUnserved(trak, opt)
			continue
		}
		t, err := buildTrack(trak, ti, entry, opt)
		if err != nil {
			return err
		}
		e, err := readEdit(trak, movieScale, t.Timescale)
		if err != nil {
			ti.Remuxable, ti.Why = false, err.Error()
			reasons = append(reasons, ti.Why)
		}
		if ti.Kind == "video" {
			video = t
		} else {
			audio = t
		}
		edits = append(edits, e)
	}
	ix := &index.Index{}
	for _, t := range []*index.Track{video, audio} {
		if t != nil {
			ix.Tracks = append(ix.Tracks, t)
		}
	}
	if len(ix.Tracks) == 0 && len(reasons) == 0 {
		return fmt.Errorf("%w: the file has no video or audio track", ErrNoStreams)
	}
	bakeEdits(ix.Tracks, edits, opt.VideoStart)
	m.Index = ix
	m.Transcode = reasons
	return nil
}

// noteUnserved reads the sample table of a track that is re-encoded, not
// served, for one purpose: a file cut short is recognised as such (see
// mediaEnd) even when none of its tracks is served. A table we cannot read
// is left for ffmpeg to judge.
func (m *Media) noteUnserved(trak *mp4.TrakBox, opt Options) {
	if trak.Mdia == nil || trak.Mdia.Minf == nil || trak.Mdia.Minf.Stbl == nil {
		return
	}
	samples, err := readSamples(trak.Mdia.Minf.Stbl, opt.MaxSamples)
	if err != nil {
		return
	}
	for _, s := range samples {
		m.unservedEnd = max(m.unservedEnd, s.Offset+int64(s.Size))
	}
}

// trackInfo reads what a track is; entry is its sample entry when it is a
// video or audio track with one.
func trackInfo(trak *mp4.TrakBox) (TrackInfo, mp4.Box) {
	info := TrackInfo{Kind: "other"}
	if trak.Tkhd != nil {
		info.ID = trak.Tkhd.TrackID
	}
	if trak.Mdia == nil || trak.Mdia.Hdlr == nil || trak.Mdia.Mdhd == nil || trak.Mdia.Minf == nil ||
		trak.Mdia.Minf.Stbl == nil || trak.Mdia.Minf.Stbl.Stsd == nil {
		return info, nil
	}
	if ts := trak.Mdia.Mdhd.Timescale; ts > 0 {
		info.Duration = time.Duration(float64(trak.Mdia.Mdhd.Duration) / float64(ts) * float64(time.Second))
	}
	stsd := trak.Mdia.Minf.Stbl.Stsd
	switch trak.Mdia.Hdlr.HandlerType {
	case "vide":
		info.Kind = "video"
		var vse *mp4.VisualSampleEntryBox
		switch {
		case stsd.AvcX != nil:
			vse = stsd.AvcX
			info.Remuxable = vse.AvcC != nil
			if vse.AvcC != nil {
				d := vse.AvcC.DecConfRec
				info.Codec = fmt.Sprintf("avc1.%02x%02x%02x", d.AVCProfileIndication, d.ProfileCompatibility, d.AVCLevelIndication)
				if avcInterlaced(d) {
					info.Remuxable, info.Why = false, "the H.264 video is coded interlaced and is re-encoded progressive"
				}
			}
		case stsd.HvcX != nil:
			vse = stsd.HvcX
			info.Remuxable = vse.HvcC != nil && (vse.Type() == "hvc1" || vse.Type() == "hev1")
			if vse.HvcC != nil {
				info.Codec = hevcCodec(vse.Type(), vse.HvcC)
			}
		default:
			info.Format = firstEntryType(stsd)
			info.Encrypted = info.Format == "encv"
			info.Why = fmt.Sprintf("video codec %s is re-encoded to H.264", describeFormat(info.Format))
			return info, nil
		}
		info.Format = vse.Type()
		info.Width, info.Height = int(vse.Width), int(vse.Height)
		if !info.Remuxable {
			if info.Why == "" {
				info.Why = fmt.Sprintf("video format %s lacks its decoder configuration", info.Format)
			}
			return info, nil
		}
		return info, vse
	case "soun":
		info.Kind = "audio"
		if stsd.Mp4a == nil {
			info.Format = firstEntryType(stsd)
			info.Encrypted = info.Format == "enca"
			info.Why = fmt.Sprintf("audio codec %s is re-encoded to AAC", describeFormat(info.Format))
			return info, nil
		}
		a := stsd.Mp4a
		info.Format = "mp4a"
		info.Channels = int(a.ChannelCount)
		if a.Esds == nil || a.Esds.DecConfigDescriptor == nil || a.Esds.DecConfigDescriptor.DecSpecificInfo == nil {
			info.Why = "the audio (mp4a) has no decoder configuration"
			return info, nil
		}
		if a.Esds.DecConfigDescriptor.ObjectType != 0x40 {
			info.Why = fmt.Sprintf("audio object type 0x%02x (not AAC) is re-encoded to AAC", a.Esds.DecConfigDescriptor.ObjectType)
			return info, nil
		}
		asc, err := aac.DecodeAudioSpecificConfig(bytes.NewReader(a.Esds.DecConfigDescriptor.DecSpecificInfo.DecConfig))
		if err != nil {
			info.Why = "the AAC configuration could not be read"
			return info, nil
		}
		info.Codec = fmt.Sprintf("mp4a.40.%d", asc.ObjectType)
		if asc.ChannelConfiguration > 0 {
			info.Channels = int(asc.ChannelConfiguration)
			if asc.ChannelConfiguration == 7 {
				info.Channels = 8
			}
		}
		info.Remuxable = true
		return info, a
	default:
		info.Kind = trak.Mdia.Hdlr.HandlerType
	}
	return info, nil
}

func firstEntryType(stsd *mp4.StsdBox) string {
	if len(stsd.Children) > 0 {
		return stsd.Children[0].Type()
	}
	return "unknown"
}

var formatNames = map[string]string{
	"vp09": "VP9", "vp08": "VP8", "av01": "AV1", "mp4v": "MPEG-4 Part 2", "jpeg": "Motion JPEG",
	"apch": "ProRes 422 HQ", "apcn": "ProRes 422", "apcs": "ProRes 422 LT", "apco": "ProRes 422 Proxy",
	"ap4h": "ProRes 4444", "ap4x": "ProRes 4444 XQ", "AVdn": "DNxHD", "AVdh": "DNxHR",
	"dvc ": "DV", "dvcp": "DV", "dvpp": "DV", "dv5n": "DV", "dv5p": "DV",
	"xdvc": "XDCAM HD", "xd5c": "XDCAM HD422", "mx5p": "IMX",
	"Opus": "Opus", "ac-3": "AC-3", "ec-3": "E-AC-3", "fLaC": "FLAC", ".mp3": "MP3",
	"lpcm": "PCM", "sowt": "PCM", "twos": "PCM", "ipcm": "PCM", "fpcm": "PCM",
	"in24": "PCM", "in32": "PCM", "fl32": "PCM", "fl64": "PCM", "raw ": "PCM",
	"alac": "ALAC", "ulaw": "µ-law", "alaw": "A-law",
	"encv": "encrypted video", "enca": "encrypted audio",
}

// avcInterlaced reports whether an H.264 stream is coded for interlace
// (frame_mbs_only_flag 0: pictures may be fields, or MBAFF frames), which
// browsers show combed.
func avcInterlaced(d avc.DecConfRec) bool {
	if len(d.SPSnalus) == 0 {
		return false
	}
	sps, err := avc.ParseSPSNALUnit(d.SPSnalus[0], false)
	return err == nil && !sps.FrameMbsOnlyFlag
}

func describeFormat(fourcc string) string {
	if n, ok := formatNames[fourcc]; ok {
		return fmt.Sprintf("%s (%s)", n, fourcc)
	}
	return fmt.Sprintf("%q", fourcc)
}

func hevcCodec(entry string, hvcc *mp4.HvcCBox) string {
	for _, sps := range hvcc.GetNalusForType(hevc.NALU_SPS) {
		if parsed, err := hevc.ParseSPSNALUnit(sps); err == nil {
			return hevc.CodecString(entry, parsed)
		}
	}
	return entry
}

// buildTrack turns a track's sample tables into an index.Track (offsets
// as in the file; timing raw until bakeEdits).
func buildTrack(trak *mp4.TrakBox, info *TrackInfo, entry mp4.Box, opt Options) (*index.Track, error) {
	stbl := trak.Mdia.Minf.Stbl
	t := &index.Track{Timescale: trak.Mdia.Mdhd.Timescale, Codec: info.Codec, Language: trak.Mdia.Mdhd.GetLanguage()}
	if t.Timescale == 0 {
		return nil, fmt.Errorf("%w: track %d has timescale 0", ErrDamaged, info.ID)
	}
	var buf bytes.Buffer
	if err := entry.Encode(&buf); err != nil {
		return nil, fmt.Errorf("%w: sample entry of track %d: %v", ErrDamaged, info.ID, err)
	}
	t.SampleEntry = buf.Bytes()
	switch e := entry.(type) {
	case *mp4.VisualSampleEntryBox:
		t.Kind = index.Video
		// Width and Height are the display size (RESOLUTION in playlists,
		// tkhd in init segments): anamorphic pixels widen the picture.
		t.Width, t.Height = e.Width, e.Height
		if p := e.Pasp; p != nil && p.HSpacing > 0 && p.VSpacing > 0 && p.HSpacing != p.VSpacing {
			w := uint64(e.Width) * uint64(p.HSpacing) / uint64(p.VSpacing)
			t.Width = uint16(min(w, 1<<15))
		}
	case *mp4.AudioSampleEntryBox:
		t.Kind = index.Audio
		t.SampleRate = t.Timescale
		if e.SampleRate != 0 {
			t.SampleRate = uint32(e.SampleRate)
		}
		t.Channels = uint16(info.Channels)
	}
	samples, err := readSamples(stbl, opt.MaxSamples)
	if err != nil {
		return nil, fmt.Errorf("track %d: %w", info.ID, err)
	}
	if len(samples) == 0 {
		return nil, fmt.Errorf("%w: track %d has no samples", ErrNoStreams, info.ID)
	}
	t.Samples = samples
	return t, nil
}

// readSamples expands stsz, stts, ctts, stss, stsc and stco/co64 into one
// entry per sample.
func readSamples(stbl *mp4.StblBox, maxSamples int) ([]index.Sample, error) {
	if stbl.Stsz == nil || stbl.Stts == nil || stbl.Stsc == nil || (stbl.Stco == nil && stbl.Co64 == nil) {
		return nil, fmt.Errorf("%w: sample table incomplete", ErrDamaged)
	}
	n := int(stbl.Stsz.SampleNumber)
	if n > maxSamples {
		return nil, fmt.Errorf("%w: %d samples, over the %d limit", ErrDamaged, n, maxSamples)
	}
	if stbl.Stsz.SampleUniformSize == 0 && len(stbl.Stsz.SampleSize) < n {
		return nil, fmt.Errorf("%w: stsz lists %d sizes for %d samples", ErrDamaged, len(stbl.Stsz.SampleSize), n)
	}
	samples := make([]index.Sample, n)
	for i := range samples {
		if stbl.Stsz.SampleUniformSize != 0 {
			samples[i].Size = stbl.Stsz.SampleUniformSize
		} else {
			samples[i].Size = stbl.Stsz.SampleSize[i]
		}
	}
	// Durations.
	i := 0
	for e, count := range stbl.Stts.SampleCount {
		for c := uint32(0); c < count && i < n; c++ {
			samples[i].Dur = stbl.Stts.SampleTimeDelta[e]
			i++
		}
	}
	if i < n {
		return nil, fmt.Errorf("%w: stts covers %d of %d samples", ErrDamaged, i, n)
	}
	// Composition offsets (EndSampleNr is cumulative and 1-based in mp4ff).
	if ctts := stbl.Ctts; ctts != nil {
		i = 0
		for e := 1; e < len(ctts.EndSampleNr) && e-1 < len(ctts.SampleOffset); e++ {
			for ; i < int(ctts.EndSampleNr[e]) && i < n; i++ {
				samples[i].CTO = ctts.SampleOffset[e-1]
			}
		}
	}
	// Keyframes: no stss means every sample is one.
	if stbl.Stss == nil {
		for i := range samples {
			samples[i].Sync = true
		}
	} else {
		for _, nr := range stbl.Stss.SampleNumber {
			if nr >= 1 && int(nr) <= n {
				samples[nr-1].Sync = true
			}
		}
	}
	// Byte offsets: walk chunks.
	var offsets []uint64
	if stbl.Co64 != nil {
		offsets = stbl.Co64.ChunkOffset
	} else {
		offsets = make([]uint64, len(stbl.Stco.ChunkOffset))
		for c, o := range stbl.Stco.ChunkOffset {
			offsets[c] = uint64(o)
		}
	}
	entries := stbl.Stsc.Entries
	i = 0
	for e := range entries {
		first := int(entries[e].FirstChunk)
		last := len(offsets) // chunks of this entry run to the next entry's first
		if e+1 < len(entries) {
			last = int(entries[e+1].FirstChunk) - 1
		}
		if first < 1 || last > len(offsets) {
			return nil, fmt.Errorf("%w: stsc refers to chunk %d of %d", ErrDamaged, max(first, last), len(offsets))
		}
		spc := int(entries[e].SamplesPerChunk)
		for c := first; c <= last && i < n; c++ {
			off := offsets[c-1]
			for k := 0; k < spc && i < n; k++ {
				if off > math.MaxInt64/2 {
					return nil, fmt.Errorf("%w: chunk offset out of range", ErrDamaged)
				}
				samples[i].Offset = int64(off)
				off += uint64(samples[i].Size)
				i++
			}
		}
	}
	if i < n {
		return nil, fmt.Errorf("%w: chunks hold %d of %d samples", ErrDamaged, i, n)
	}
	return samples, nil
}
