package captions

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const srt = "1\r\n00:00:01,000 --> 00:00:03,500\r\nHello, <i>world</i>\r\n\r\n2\r\n00:00:04,000 --> 00:00:06,000\r\nSecond line\r\n"

func TestToWebVTT_ConvertsSRTAndKeepsWebVTT(t *testing.T) {
	out, f, err := ToWebVTT([]byte("\xef\xbb\xbf"+srt), 10*time.Second)
	if err != nil || f != SRT {
		t.Fatalf("%v %v", f, err)
	}
	got := string(out)
	for _, want := range []string{"WEBVTT", "00:00:01.000 --> 00:00:03.500", "Hello", "00:00:04.000 --> 00:00:06.000"} {
		if !strings.Contains(got, want) {
			t.Errorf("the WebVTT lacks %q:\n%s", want, got)
		}
	}
	again, f, err := ToWebVTT(out, 10*time.Second)
	if err != nil || f != WebVTT || !strings.Contains(string(again), "Second line") {
		t.Fatalf("our own WebVTT read back: %v %v\n%s", f, err, again)
	}
}

func TestToWebVTT_RefusesWithASentence(t *testing.T) {
	for name, in := range map[string]string{
		"empty":        "",
		"not text":     "\xff\xfe\x00\x01",
		"no cues":      "WEBVTT\n\n",
		"past the end": "1\n00:10:00,000 --> 00:10:02,000\nlate\n",
		"garbage":      "this is not a caption file at all",
	} {
		_, _, err := ToWebVTT([]byte(in), 10*time.Second)
		var ie *InputError
		if !errors.As(err, &ie) || !strings.HasSuffix(ie.Error(), ".") && !strings.HasSuffix(ie.Error(), "?") {
			t.Errorf("%s: %v, want an InputError sentence", name, err)
		}
	}
}

func TestPlaylist_OneSegmentOfTheVideosLength(t *testing.T) {
	got := string(Playlist("en.vtt", 8500*time.Millisecond))
	want := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:9\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:8.500,\nen.vtt\n#EXT-X-ENDLIST\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func FuzzToWebVTT(f *testing.F) {
	f.Add([]byte(srt))
	f.Add([]byte("WEBVTT\n\n00:01.000 --> 00:02.000 align:start\n<v Bob>hi\n"))
	f.Add([]byte("WEBVTT\n\nSTYLE\n::cue { color: red }\n\nREGION\nid:x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, _, err := ToWebVTT(data, time.Hour)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) && !strings.Contains(err.Error(), "write WebVTT") {
				t.Fatalf("not an input error: %v", err)
			}
			return
		}
		if !strings.HasPrefix(string(out), "WEBVTT") {
			t.Fatalf("output is not WebVTT: %q", out)
		}
	})
}
