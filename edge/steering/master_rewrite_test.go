package steering

import (
	"errors"
	"strings"
	"testing"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/streamfront/streamfront/internal/hlsattr"
)

// originMaster is a master as the origin writes it (packager/hls.Master):
// relative URIs, an audio group with CHANNELS, I-frame playlists.
const originMaster = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="Stereo",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="hls/720p/audio.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=2000000,AVERAGE-BANDWIDTH=1500000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25.000,AUDIO="audio"
hls/720p/video.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=700000,AVERAGE-BANDWIDTH=500000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25.000,AUDIO="audio"
hls/360p/video.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=300000,AVERAGE-BANDWIDTH=200000,CODECS="avc1.64001f",RESOLUTION=1280x720,URI="hls/720p/iframes.m3u8"
`

var (
	edge1 = Edge{Name: "edge-1", URL: "http://127.0.0.1:8081"}
	edge2 = Edge{Name: "edge-2", URL: "https://e2.cdn.test"}
)

func TestSteer_RewritesMasterIntoOneCopyPerEdge(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		pathways []Edge
		query    string
		want     string
	}{
		{
			name:     "origin master, edge-2 preferred",
			in:       originMaster,
			pathways: []Edge{edge2, edge1},
			want: `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-CONTENT-STEERING:SERVER-URI="/steer/abc",PATHWAY-ID="edge-2"
#EXT-X-SESSION-DATA:DATA-ID="com.streamfront.rtt-probe.edge-2",VALUE="https://e2.cdn.test/healthz"
#EXT-X-SESSION-DATA:DATA-ID="com.streamfront.rtt-probe.edge-1",VALUE="http://127.0.0.1:8081/healthz"

#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio@edge-2",NAME="Stereo",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="https://e2.cdn.test/videos/abc/hls/720p/audio.m3u8",STABLE-RENDITION-ID="r1"
#EXT-X-STREAM-INF:BANDWIDTH=2000000,AVERAGE-BANDWIDTH=1500000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25.000,AUDIO="audio@edge-2",PATHWAY-ID="edge-2",STABLE-VARIANT-ID="v1"
https://e2.cdn.test/videos/abc/hls/720p/video.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=700000,AVERAGE-BANDWIDTH=500000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25.000,AUDIO="audio@edge-2",PATHWAY-ID="edge-2",STABLE-VARIANT-ID="v2"
https://e2.cdn.test/videos/abc/hls/360p/video.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=300000,AVERAGE-BANDWIDTH=200000,CODECS="avc1.64001f",RESOLUTION=1280x720,URI="https://e2.cdn.test/videos/abc/hls/720p/iframes.m3u8",PATHWAY-ID="edge-2",STABLE-VARIANT-ID="i1"

#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio@edge-1",NAME="Stereo",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="http://127.0.0.1:8081/videos/abc/hls/720p/audio.m3u8",STABLE-RENDITION-ID="r1"
#EXT-X-STREAM-INF:BANDWIDTH=2000000,AVERAGE-BANDWIDTH=1500000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25.000,AUDIO="audio@edge-1",PATHWAY-ID="edge-1",STABLE-VARIANT-ID="v1"
http://127.0.0.1:8081/videos/abc/hls/720p/video.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=700000,AVERAGE-BANDWIDTH=500000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25.000,AUDIO="audio@edge-1",PATHWAY-ID="edge-1",STABLE-VARIANT-ID="v2"
http://127.0.0.1:8081/videos/abc/hls/360p/video.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=300000,AVERAGE-BANDWIDTH=200000,CODECS="avc1.64001f",RESOLUTION=1280x720,URI="http://127.0.0.1:8081/videos/abc/hls/720p/iframes.m3u8",PATHWAY-ID="edge-1",STABLE-VARIANT-ID="i1"
`,
		},
		{
			name: "query rides along; absolute URIs on an edge move, foreign ones stay; old steering dropped; stable IDs kept",
			in: "\xef\xbb\xbf#EXTM3U\r\n" +
				"#EXT-X-VERSION:7\r\n" +
				"#EXT-X-CONTENT-STEERING:SERVER-URI=\"https://old/steer\"\r\n" +
				"## a comment\r\n" +
				"#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",URI=\"https://other.test/subs.m3u8\",STABLE-RENDITION-ID=\"en\"\r\n" +
				"#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS=\"avc1.4d401e\",SUBTITLES=\"subs\",CLOSED-CAPTIONS=NONE,STABLE-VARIANT-ID=\"low\"\r\n" +
				"\r\n" +
				"# a comment between the tag and its URI\r\n" +
				"http://127.0.0.1:8081/videos/abc/low.m3u8?x=1\r\n",
			pathways: []Edge{edge1, edge2},
			query:    "token=s%20g&exp=9",
			want: `#EXTM3U
#EXT-X-VERSION:7
## a comment
#EXT-X-CONTENT-STEERING:SERVER-URI="/steer/abc",PATHWAY-ID="edge-1"
#EXT-X-SESSION-DATA:DATA-ID="com.streamfront.rtt-probe.edge-1",VALUE="http://127.0.0.1:8081/healthz"
#EXT-X-SESSION-DATA:DATA-ID="com.streamfront.rtt-probe.edge-2",VALUE="https://e2.cdn.test/healthz"

#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs@edge-1",NAME="English",URI="https://other.test/subs.m3u8",STABLE-RENDITION-ID="en"
#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS="avc1.4d401e",SUBTITLES="subs@edge-1",CLOSED-CAPTIONS=NONE,STABLE-VARIANT-ID="low",PATHWAY-ID="edge-1"
http://127.0.0.1:8081/videos/abc/low.m3u8?x=1&token=s%20g&exp=9

#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs@edge-2",NAME="English",URI="https://other.test/subs.m3u8",STABLE-RENDITION-ID="en"
#EXT-X-STREAM-INF:BANDWIDTH=1000,CODECS="avc1.4d401e",SUBTITLES="subs@edge-2",CLOSED-CAPTIONS=NONE,STABLE-VARIANT-ID="low",PATHWAY-ID="edge-2"
https://e2.cdn.test/videos/abc/low.m3u8?x=1&token=s%20g&exp=9
`,
		},
		{
			name:     "absolute-path and parent references resolve on each edge",
			in:       "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n/videos/abc/a.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\n../abc/b.m3u8\n",
			pathways: []Edge{edge2},
			want: `#EXTM3U
#EXT-X-CONTENT-STEERING:SERVER-URI="/steer/abc",PATHWAY-ID="edge-2"
#EXT-X-SESSION-DATA:DATA-ID="com.streamfront.rtt-probe.edge-2",VALUE="https://e2.cdn.test/healthz"

#EXT-X-STREAM-INF:BANDWIDTH=1,PATHWAY-ID="edge-2",STABLE-VARIANT-ID="v1"
https://e2.cdn.test/videos/abc/a.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2,PATHWAY-ID="edge-2",STABLE-VARIANT-ID="v2"
https://e2.cdn.test/videos/abc/b.m3u8
`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseMaster([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.steer(steerTarget{
				masterPath: "/videos/abc/master.m3u8",
				pathways:   tc.pathways,
				rebaseFrom: []string{edge1.URL, edge2.URL},
				serverURI:  "/steer/abc",
				query:      tc.query,
			})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("steered master:\n%s\nwant:\n%s", got, tc.want)
			}
			// Whatever the router writes, a strict parser reads.
			var pl playlist.Multivariant
			if err := pl.Unmarshal(got); err != nil {
				t.Fatalf("gohlslib cannot read the steered master: %v", err)
			}
			if n := strings.Count(tc.in, "#EXT-X-STREAM-INF") * len(tc.pathways); len(pl.Variants) != n {
				t.Errorf("gohlslib reads %d variants, want %d", len(pl.Variants), n)
			}
		})
	}
}

func TestParseMaster_RefusesWhatItCannotSteer(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error // nil: any error
	}{
		{"empty", "", errNotPlaylist},
		{"not m3u8", "<html>nope</html>", errNotPlaylist},
		{"media playlist", "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\nseg0.m4s\n", errNotMaster},
		{"no variants", "#EXTM3U\n#EXT-X-VERSION:7\n", errNotMaster},
		{"already steered", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,PATHWAY-ID=\"a\"\na.m3u8\n", errAlreadySteered},
		{"variant without URI", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n", nil},
		{"variant followed by a tag", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n#EXT-X-STREAM-INF:BANDWIDTH=2\nb.m3u8\n", nil},
		{"stray URI", "#EXTM3U\nfoo.m3u8\n", nil},
		{"media without group", "#EXTM3U\n#EXT-X-MEDIA:TYPE=AUDIO,NAME=\"a\"\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n", nil},
		{"I-frame without URI", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1\n", nil},
		{"broken attributes", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"x\na.m3u8\n", hlsattr.ErrSyntax},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseMaster([]byte(tc.in))
			if err == nil {
				t.Fatalf("parsed %+v; want an error", m)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAddMissingParams_AddsOnlyWhatIsNotThere(t *testing.T) {
	tests := []struct{ uri, query, want string }{
		{"http://e/a.m3u8", "token=T", "http://e/a.m3u8?token=T"},
		{"http://e/a.m3u8?x=1", "token=T&exp=2", "http://e/a.m3u8?x=1&token=T&exp=2"},
		// An edge serving a signed master has put the token there itself.
		{"http://e/a.m3u8?token=T", "token=T", "http://e/a.m3u8?token=T"},
		{"http://e/a.m3u8?token=Other", "token=T&k=1", "http://e/a.m3u8?token=Other&k=1"},
		{"http://e/a.m3u8?", "token=T", "http://e/a.m3u8?token=T"},
		{"http://e/a.m3u8#f", "token=T", "http://e/a.m3u8?token=T#f"},
		{"http://e/a.m3u8", "a=1&a=2&&b", "http://e/a.m3u8?a=1&a=2&b"},
		{"http://e/a.m3u8", "", "http://e/a.m3u8"},
	}
	for _, tc := range tests {
		if got := addMissingParams(tc.uri, tc.query); got != tc.want {
			t.Errorf("addMissingParams(%q, %q) = %q, want %q", tc.uri, tc.query, got, tc.want)
		}
	}
}

func TestSteer_RefusesURIsThatWouldBreakThePlaylist(t *testing.T) {
	m, err := parseMaster([]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n"))
	if err != nil {
		t.Fatal(err)
	}
	// A quote in the query must have been escaped by safeQuery before.
	_, err = m.steer(steerTarget{masterPath: "/videos/abc/master.m3u8", pathways: []Edge{edge1}, serverURI: "/steer/abc", query: `a="b"`})
	if err == nil {
		t.Fatal("a query with a double quote was written into the playlist")
	}
	if got := safeQuery("t=a\"b c\x7f&u=%22"); got != "t=a%22b%20c%7F&u=%22" {
		t.Errorf("safeQuery = %q", got)
	}
}

// FuzzSteerMaster feeds arbitrary bytes as the edge's master: the router
// must either refuse them or write a playlist gohlslib reads, with one copy
// of every variant per edge.
func FuzzSteerMaster(f *testing.F) {
	f.Add([]byte(originMaster))
	f.Add([]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,AUDIO=\"a\"\n../x.m3u8?q=1\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"n\"\n"))
	f.Add([]byte("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttp://127.0.0.1:8081/v.m3u8\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		m, err := parseMaster(src)
		if err != nil {
			return
		}
		out, err := m.steer(steerTarget{
			masterPath: "/videos/abc/master.m3u8",
			pathways:   []Edge{edge1, edge2},
			rebaseFrom: []string{edge1.URL, edge2.URL},
			serverURI:  "/steer/abc",
			query:      "t=1",
		})
		if err != nil {
			return // an unusable URI: refused, not written
		}
		again, err := parseMasterLines(out)
		if err != nil {
			t.Fatalf("the steered master does not parse back: %v\n%s", err, out)
		}
		if len(again.variants) != 2*len(m.variants) || len(again.media) != 2*len(m.media) || len(again.iframes) != 2*len(m.iframes) {
			t.Fatalf("copies: %d/%d/%d from %d/%d/%d", len(again.variants), len(again.media), len(again.iframes), len(m.variants), len(m.media), len(m.iframes))
		}
	})
}
