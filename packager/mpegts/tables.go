package mpegts

import (
	"bytes"
	"fmt"

	mcmpegts "github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/codecs"
)

// Packet identifiers of the one program of every segment.
const (
	pidVideo uint16 = 256
	pidAudio uint16 = 257
)

// tablesLen is what the PAT and the PMT take: one transport packet each.
const tablesLen = 2 * packetSize

// tables returns the PAT and PMT of a segment carrying the given streams,
// with the PCR on the video PID (the audio PID when there is no video).
// mediacommon's writer (over astits) builds them; it names the first track
// the PCR carrier, so video goes first.
func tables(hasVideo, hevcVideo, hasAudio bool) ([]byte, error) {
	var tracks []*mcmpegts.Track
	if hasVideo {
		var c codecs.Codec = &codecs.H264{}
		if hevcVideo {
			c = &codecs.H265{}
		}
		tracks = append(tracks, &mcmpegts.Track{PID: pidVideo, Codec: c})
	}
	if hasAudio {
		tracks = append(tracks, &mcmpegts.Track{PID: pidAudio, Codec: &codecs.MPEG4Audio{}})
	}
	var buf bytes.Buffer
	w := &mcmpegts.Writer{W: &buf, Tracks: tracks}
	if err := w.Initialize(); err != nil {
		return nil, fmt.Errorf("mpegts: tables: %w", err)
	}
	if _, err := w.WriteTables(); err != nil {
		return nil, fmt.Errorf("mpegts: tables: %w", err)
	}
	if buf.Len() != tablesLen {
		return nil, fmt.Errorf("mpegts: tables of %d bytes, want %d", buf.Len(), tablesLen)
	}
	return buf.Bytes(), nil
}
