package captions

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/asticode/go-astisub"
)

// MaxSize bounds a caption file (a feature film's captions are ~100 KB).
const MaxSize = 2 << 20

// maxCues bounds the cues of one file.
const maxCues = 50_000

// Format is how a file was written.
type Format string

// Formats.
const (
	WebVTT Format = "webvtt"
	SRT    Format = "srt"
)

// InputError is a file a person must fix; its text says how.
type InputError struct{ msg string }

func (e *InputError) Error() string { return e.msg }

func bad(format string, a ...any) error { return &InputError{fmt.Sprintf(format, a...)} }

// ToWebVTT reads data (WebVTT, or SRT) and writes it as WebVTT. duration
// is the video's: a cue that starts after it is refused (a file for
// another video, or in the wrong unit).
func ToWebVTT(data []byte, duration time.Duration) ([]byte, Format, error) {
	if len(data) == 0 {
		return nil, "", bad("The caption file is empty.")
	}
	if len(data) > MaxSize {
		return nil, "", bad("The caption file is larger than %d MiB.", MaxSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM, as Windows editors write
	if !utf8.Valid(data) {
		return nil, "", bad("The caption file is not UTF-8 text; save it as UTF-8 and upload it again.")
	}
	// Line ends as the parsers expect them.
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	format := SRT
	if bytes.HasPrefix(data, []byte("WEBVTT")) {
		format = WebVTT
	}
	subs, err := parse(data, format)
	if err != nil {
		return nil, "", err
	}
	if len(subs.Items) == 0 {
		return nil, "", bad("The caption file has no cues: a %s file lists cues like \"00:00:01.000 --> 00:00:04.000\" followed by their text.", format)
	}
	if len(subs.Items) > maxCues {
		return nil, "", bad("The caption file has more than %d cues.", maxCues)
	}
	for i, it := range subs.Items {
		if it.StartAt < 0 || it.EndAt < it.StartAt {
			return nil, "", bad("Cue %d ends before it starts (%s --> %s).", i+1, it.StartAt, it.EndAt)
		}
		if duration > 0 && it.StartAt > duration+time.Second {
			return nil, "", bad("Cue %d starts at %s, after the end of the video (%s): is this file for another video?",
				i+1, it.StartAt.Round(time.Millisecond), duration.Round(time.Millisecond))
		}
	}
	var out bytes.Buffer
	if err := subs.WriteToWebVTT(&out); err != nil {
		return nil, "", fmt.Errorf("captions: write WebVTT: %w", err)
	}
	return out.Bytes(), format, nil
}

// parse runs go-astisub, turning its panics on hostile input (a library
// of many formats is not hardened against every byte) into a refusal.
func parse(data []byte, format Format) (subs *astisub.Subtitles, err error) {
	defer func() {
		if p := recover(); p != nil {
			subs, err = nil, bad("The caption file could not be read as %s.", format)
		}
	}()
	if format == WebVTT {
		subs, err = astisub.ReadFromWebVTT(bytes.NewReader(data))
	} else {
		subs, err = astisub.ReadFromSRT(bytes.NewReader(data))
	}
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "astisub: ")
		return nil, bad("The caption file could not be read as %s (WebVTT or SRT are taken): %s.", format, msg)
	}
	return subs, nil
}

// Playlist is the subtitle media playlist of a video of duration with its
// WebVTT at uri: one segment, the whole file (players fetch it once).
func Playlist(uri string, duration time.Duration) []byte {
	secs := max(duration.Seconds(), 0.001)
	var b bytes.Buffer
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n", int(math.Ceil(secs)))
	fmt.Fprintf(&b, "#EXTINF:%.3f,\n%s\n#EXT-X-ENDLIST\n", secs, uri)
	return b.Bytes()
}
