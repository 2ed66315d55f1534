package edge

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const tok = "eyJraWQiOiJrMSJ9.c2ln"

func TestAddTokenParam(t *testing.T) {
	p := "token=" + tok
	tests := []struct{ in, want string }{
		{"1.m4s", "1.m4s?" + p},
		{"hls/720/video.m3u8", "hls/720/video.m3u8?" + p},
		{"../other/seg.m4s", "../other/seg.m4s?" + p},
		{"/videos/abc/hls/720/video/1.m4s", "/videos/abc/hls/720/video/1.m4s?" + p},
		{"seg.m4s?v=2", "seg.m4s?v=2&" + p},
		{"seg.m4s?", "seg.m4s?" + p},
		{"seg.m4s?v=2&", "seg.m4s?v=2&" + p},
		{"sprite-0.jpg#xywh=0,0,160,90", "sprite-0.jpg?" + p + "#xywh=0,0,160,90"},
		{"sprite-0.jpg?v=1#xywh=0,0,160,90", "sprite-0.jpg?v=1&" + p + "#xywh=0,0,160,90"},
		// Already carries a token: the playlist's own choice stands.
		{"seg.m4s?token=other", "seg.m4s?token=other"},
		{"seg.m4s?v=1&token=other", "seg.m4s?v=1&token=other"},
		// "mytoken" is another parameter.
		{"seg.m4s?mytoken=x", "seg.m4s?mytoken=x&" + p},
		// Absolute URIs are left alone: the token is for this CDN's paths.
		{"https://cdn.example.com/seg.m4s", "https://cdn.example.com/seg.m4s"},
		{"http://127.0.0.1:8081/videos/abc/1.m4s", "http://127.0.0.1:8081/videos/abc/1.m4s"},
		{"//cdn.example.com/seg.m4s", "//cdn.example.com/seg.m4s"},
		{"skd://key-id", "skd://key-id"},
		{"data:text/plain;base64,AAAA", "data:text/plain;base64,AAAA"},
		// A colon after a slash is part of a relative path, not a scheme.
		{"a/b:c.m4s", "a/b:c.m4s?" + p},
		{"1seg:x", "1seg:x?" + p},
		{"", ""},
	}
	for _, tt := range tests {
		if got := addTokenParam(tt.in, p); got != tt.want {
			t.Errorf("addTokenParam(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAddTokenToPlaylist_Master(t *testing.T) {
	in := "#EXTM3U\n" +
		"#EXT-X-VERSION:7\n" +
		"#EXT-X-INDEPENDENT-SEGMENTS\n" +
		`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",DEFAULT=YES,URI="hls/src/audio.m3u8"` + "\n" +
		`#EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="aud"` + "\n" +
		"hls/720/video.m3u8\n" +
		`#EXT-X-STREAM-INF:BANDWIDTH=800000,AUDIO="aud"` + "\n" +
		"hls/360/video.m3u8?v=1\n" +
		`#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100000,CODECS="avc1.64001f",URI="hls/720/iframes.m3u8"` + "\n" +
		`#EXT-X-SESSION-DATA:DATA-ID="com.example",URI="https://meta.example.com/x.json"` + "\n" +
		"# a comment with URI=\"not/a/tag\"\n"
	want := "#EXTM3U\n" +
		"#EXT-X-VERSION:7\n" +
		"#EXT-X-INDEPENDENT-SEGMENTS\n" +
		`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",DEFAULT=YES,URI="hls/src/audio.m3u8?token=` + tok + `"` + "\n" +
		`#EXT-X-STREAM-INF:BANDWIDTH=2000000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="aud"` + "\n" +
		"hls/720/video.m3u8?token=" + tok + "\n" +
		`#EXT-X-STREAM-INF:BANDWIDTH=800000,AUDIO="aud"` + "\n" +
		"hls/360/video.m3u8?v=1&token=" + tok + "\n" +
		`#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100000,CODECS="avc1.64001f",URI="hls/720/iframes.m3u8?token=` + tok + `"` + "\n" +
		`#EXT-X-SESSION-DATA:DATA-ID="com.example",URI="https://meta.example.com/x.json"` + "\n" +
		"# a comment with URI=\"not/a/tag\"\n"
	got, master := addTokenToPlaylist([]byte(in), tok)
	if string(got) != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if !master {
		t.Fatal("a playlist with EXT-X-STREAM-INF is a master playlist")
	}
}

func TestAddTokenToPlaylist_Media(t *testing.T) {
	in := "#EXTM3U\r\n" +
		"#EXT-X-TARGETDURATION:6\r\n" +
		"#EXT-X-PLAYLIST-TYPE:VOD\r\n" +
		`#EXT-X-MAP:URI="video/init.mp4"` + "\r\n" +
		`#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://key",KEYFORMAT="com.apple.streamingkeydelivery"` + "\r\n" +
		"#EXTINF:6.000,\r\n" +
		"video/0.m4s\r\n" +
		"#EXTINF:6.000,\r\n" +
		"  video/1.m4s  \r\n" +
		`#EXT-X-BYTERANGE:100@0` + "\r\n" +
		"#EXTINF:2.5,\r\n" +
		"/videos/abc/hls/720/video/2.m4s\r\n" +
		"#EXT-X-ENDLIST" // no final newline
	want := "#EXTM3U\r\n" +
		"#EXT-X-TARGETDURATION:6\r\n" +
		"#EXT-X-PLAYLIST-TYPE:VOD\r\n" +
		`#EXT-X-MAP:URI="video/init.mp4?token=` + tok + `"` + "\r\n" +
		`#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://key",KEYFORMAT="com.apple.streamingkeydelivery"` + "\r\n" +
		"#EXTINF:6.000,\r\n" +
		"video/0.m4s?token=" + tok + "\r\n" +
		"#EXTINF:6.000,\r\n" +
		"  video/1.m4s?token=" + tok + "  \r\n" +
		`#EXT-X-BYTERANGE:100@0` + "\r\n" +
		"#EXTINF:2.5,\r\n" +
		"/videos/abc/hls/720/video/2.m4s?token=" + tok + "\r\n" +
		"#EXT-X-ENDLIST"
	got, master := addTokenToPlaylist([]byte(in), tok)
	if string(got) != want {
		t.Fatalf("got:\n%q\nwant:\n%q", got, want)
	}
	if master {
		t.Fatal("a media playlist is not a master playlist")
	}
}

func TestRewriteURIAttributes_OnlyWholeAttributeNames(t *testing.T) {
	p := "token=" + tok
	tests := []struct{ in, want string }{
		{`#EXT-X-MAP:URI="init.mp4"`, `#EXT-X-MAP:URI="init.mp4?` + p + `"`},
		{`#EXT-X-MAP:URI="init.mp4",BYTERANGE="800@0"`, `#EXT-X-MAP:URI="init.mp4?` + p + `",BYTERANGE="800@0"`},
		{`#EXT-X-FOO:XURI="a.m4s",URI="b.m4s"`, `#EXT-X-FOO:XURI="a.m4s",URI="b.m4s?` + p + `"`},
		{`#EXT-X-FOO:NAME="URI=",URI="b.m4s"`, `#EXT-X-FOO:NAME="URI=",URI="b.m4s?` + p + `"`},
		{`#EXT-X-MAP:URI="unterminated`, `#EXT-X-MAP:URI="unterminated`},
		{`#EXT-X-PART:DURATION=1,URI="p1.m4s"`, `#EXT-X-PART:DURATION=1,URI="p1.m4s?` + p + `"`},
	}
	for _, tt := range tests {
		if got := rewriteURIAttributes(tt.in, p); got != tt.want {
			t.Errorf("rewriteURIAttributes(%q) =\n%q, want\n%q", tt.in, got, tt.want)
		}
	}
}

func TestAddTokenToVTT_OnlyImageReferences(t *testing.T) {
	in := "WEBVTT\n\n" +
		"00:00:00.000 --> 00:00:02.000\n" +
		"sprite-0.jpg#xywh=0,0,160,90\n\n" +
		"1\n" +
		"00:00:02.000 --> 00:00:04.000\n" +
		"https://img.example.com/sprite-1.jpg#xywh=160,0,160,90\n\n" +
		"00:00:04.000 --> 00:00:06.000\n" +
		"A subtitle that mentions photo.jpg\n" +
		"picture.png\n\n" +
		"NOTE thumbs/x.jpg is not in a cue\n"
	want := "WEBVTT\n\n" +
		"00:00:00.000 --> 00:00:02.000\n" +
		"sprite-0.jpg?token=" + tok + "#xywh=0,0,160,90\n\n" +
		"1\n" +
		"00:00:02.000 --> 00:00:04.000\n" +
		"https://img.example.com/sprite-1.jpg#xywh=160,0,160,90\n\n" +
		"00:00:04.000 --> 00:00:06.000\n" +
		"A subtitle that mentions photo.jpg\n" +
		"picture.png?token=" + tok + "\n\n" +
		"NOTE thumbs/x.jpg is not in a cue\n"
	if got := string(addTokenToVTT([]byte(in), tok)); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestRewriteKindOf(t *testing.T) {
	tests := []struct {
		ctype, key string
		want       rewriteKind
	}{
		{"application/vnd.apple.mpegurl", "/videos/a/master.m3u8", rewritePlaylist},
		{"application/x-mpegURL; charset=utf-8", "/videos/a/x", rewritePlaylist},
		{"", "/videos/a/hls/720/video.m3u8?v=1", rewritePlaylist},
		{"text/vtt; charset=utf-8", "/videos/a/thumbs/storyboard.vtt", rewriteVTT},
		{"application/octet-stream", "/videos/a/thumbs/storyboard.vtt", rewriteVTT},
		{"video/mp4", "/videos/a/hls/720/video/1.m4s", rewriteNone},
		{"image/jpeg", "/videos/a/thumbs/poster.jpg", rewriteNone},
	}
	for _, tt := range tests {
		if got := rewriteKindOf(tt.ctype, tt.key); got != tt.want {
			t.Errorf("rewriteKindOf(%q, %q) = %d, want %d", tt.ctype, tt.key, got, tt.want)
		}
	}
}

func TestTokenIsNotPartOfTheCacheKeyOrUpstreamURI(t *testing.T) {
	tests := []struct{ target, key, uri, token string }{
		{"/videos/a/1.m4s", "/videos/a/1.m4s", "/videos/a/1.m4s", ""},
		{"/videos/a/1.m4s?token=T", "/videos/a/1.m4s", "/videos/a/1.m4s", "T"},
		{"/videos/a/1.m4s?v=2&token=T", "/videos/a/1.m4s?v=2", "/videos/a/1.m4s?v=2", "T"},
		{"/videos/a/1.m4s?token=T&v=2&token=U", "/videos/a/1.m4s?v=2", "/videos/a/1.m4s?v=2", "T"},
		{"/videos/a/1.m4s?mytoken=T", "/videos/a/1.m4s?mytoken=T", "/videos/a/1.m4s?mytoken=T", ""},
		{"/videos/a/1.m4s?token", "/videos/a/1.m4s", "/videos/a/1.m4s", ""},
		{"/videos/a/1.m4s?token=a%2Eb", "/videos/a/1.m4s", "/videos/a/1.m4s", "a.b"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, tt.target, nil)
		if got := (&Edge{}).cacheKey(r); got != tt.key {
			t.Errorf("cacheKey(%s) = %q, want %q", tt.target, got, tt.key)
		}
		if got := requestURIOf(r); got != tt.uri {
			t.Errorf("requestURIOf(%s) = %q, want %q", tt.target, got, tt.uri)
		}
		_, rawQuery, _ := strings.Cut(tt.target, "?")
		if got, _ := tokenFromQuery(rawQuery); got != tt.token {
			t.Errorf("tokenFromQuery(%q) = %q, want %q", rawQuery, got, tt.token)
		}
	}
}

func TestRedactToken(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "",
		"v=1":                     "v=1",
		"token=" + tok:            "token=eyJraWQiOiJrMSJ9.REDACTED",
		"v=1&token=" + tok + "&w": "v=1&token=eyJraWQiOiJrMSJ9.REDACTED&w",
		"mytoken=x":               "mytoken=x",
	} {
		if got := redactToken(in); got != want {
			t.Errorf("redactToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCookiePath(t *testing.T) {
	for resource, want := range map[string]string{
		"/videos/abc/":            "/videos/abc/",
		"/videos/abc/*":           "/videos/abc/",
		"/videos/abc*":            "/videos/",
		"/videos/abc/master.m3u8": "/videos/abc/master.m3u8",
	} {
		if got := cookiePath(resource); got != want {
			t.Errorf("cookiePath(%q) = %q, want %q", resource, got, want)
		}
	}
}

// FuzzAddTokenToPlaylist: rewriting never panics, keeps the line
// structure, and only inserts: the input is a subsequence of the output.
func FuzzAddTokenToPlaylist(f *testing.F) {
	f.Add("#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:6,\n0.m4s?x=1#f\n")
	f.Add("#EXT-X-MEDIA:URI=\"a\",NAME=\"URI=\\\"\"\r\n\r\nhttps://x/y\n//h/p\n")
	f.Add("WEBVTT\n\n00:00.000 --> 00:01.000\nsprite.jpg#xywh=0,0,1,1\n")
	f.Fuzz(func(t *testing.T, in string) {
		for _, out := range []string{
			func() string { b, _ := addTokenToPlaylist([]byte(in), tok); return string(b) }(),
			string(addTokenToVTT([]byte(in), tok)),
		} {
			if strings.Count(out, "\n") != strings.Count(in, "\n") {
				t.Fatalf("line count changed:\n%q\n%q", in, out)
			}
			j := 0
			for i := 0; i < len(out) && j < len(in); i++ {
				if out[i] == in[j] {
					j++
				}
			}
			if j != len(in) {
				t.Fatalf("input is not kept within the output:\n%q\n%q", in, out)
			}
		}
	})
}
