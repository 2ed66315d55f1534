package live

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/bluenviron/gohlslib/v2"
	"github.com/bluenviron/gohlslib/v2/pkg/codecs"
)

// videoClockRate is the timescale of H.264 in fMP4 and MPEG-TS alike.
const videoClockRate = 90000

// muxerTracks are the gohlslib tracks of an encoding.
type muxerTracks struct {
	video, audio *gohlslib.Track
}

// newMuxer starts a gohlslib muxer: LL-HLS for LatencyLow, plain fMP4 HLS
// for LatencyStandard, cutting segments at the first keyframe after
// segmentDuration, kept in RAM (the playlists keep SegmentCount segments;
// recording goes to the Sink).
func (m *Manager) newMuxer(latency Latency, segmentDuration time.Duration, enc encoding) (*gohlslib.Muxer, error) {
	tracks := enc.muxerTracks()
	mux := &gohlslib.Muxer{
		Variant:            gohlslib.MuxerVariantLowLatency,
		SegmentCount:       m.cfg.SegmentCount,
		SegmentMinDuration: segmentDuration,
		PartMinDuration:    m.cfg.PartDuration,
		SegmentMaxSize:     m.cfg.MaxSegmentSize,
		OnEncodeError: func(err error) {
			m.log.Warn("live: packaging", slog.Any("err", err))
		},
	}
	if latency == LatencyStandard {
		mux.Variant = gohlslib.MuxerVariantFMP4
	}
	mux.Tracks = append(mux.Tracks, tracks.video)
	if tracks.audio != nil {
		mux.Tracks = append(mux.Tracks, tracks.audio)
	}
	if err := mux.Start(); err != nil {
		return nil, fmt.Errorf("live: start muxer: %w", err)
	}
	return mux, nil
}

// muxerTracks builds the gohlslib tracks of e. The muxer's tracks are
// looked up by pointer, so a publisher gets them from the muxer it writes
// to (see publisher.bind), not from here.
func (e encoding) muxerTracks() muxerTracks {
	t := muxerTracks{video: &gohlslib.Track{
		Codec:     &codecs.H264{SPS: e.sps, PPS: e.pps},
		ClockRate: videoClockRate,
	}}
	if e.aac != nil {
		t.audio = &gohlslib.Track{
			Codec:     &codecs.MPEG4Audio{Config: *e.aac},
			ClockRate: e.aac.SampleRate,
		}
	}
	return t
}
