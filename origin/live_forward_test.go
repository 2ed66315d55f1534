package origin_test

import (
	"bytes"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
)

// Two origins share S3 and the queue; the encoder reaches one (the host)
// and viewers' requests reach the other: the multivariant playlist, a
// blocking playlist reload, a part and the DVR come from the host through
// it, and ffmpeg decodes the stream through it. Once the broadcast has
// ended, both answer 404.
func TestLive_AnotherOriginForwardsViewersToTheHost(t *testing.T) {
	b := startBackend(t)
	host := startOriginOn(t, b, 0, withLive(t)).URL
	other := startOriginOn(t, b, 0, withLive(t)).URL
	code, ls, body := liveCall(t, http.MethodPost, other+"/api/v1/live", `{"title": "Elsewhere"}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	// The stream's rtmp_url names the origin it was created on; the
	// encoder goes to the host's ingest instead, with the same key.
	enc, _ := pushLive(t, rtmpOf(t, host, ls.ID), 12, h264AAC...)
	waitLive(t, other, ls.ID, "live", 30*time.Second, func(l liveStream) bool { return l.Status == "live" })

	res, mv := httpGet(t, other+"/videos/"+ls.ID+"/master.m3u8")
	if res.StatusCode != http.StatusOK || !bytes.Contains(mv, []byte("#EXT-X-STREAM-INF")) {
		t.Fatalf("master.m3u8 through the other origin: %d\n%s", res.StatusCode, mv)
	}
	media := regexp.MustCompile(`(?m)^(\S+_stream\.m3u8)$`).FindSubmatch(mv)
	if media == nil {
		t.Fatalf("no media playlist in\n%s", mv)
	}
	mediaURL := other + "/videos/" + ls.ID + "/" + string(media[1])
	res, pl := httpGet(t, mediaURL)
	if res.StatusCode != http.StatusOK || !bytes.Contains(pl, []byte("#EXT-X-PART:")) {
		t.Fatalf("media playlist through the other origin: %d\n%s", res.StatusCode, pl)
	}
	// A blocking reload for the next segment is held at the host and
	// answered through the other origin once it exists.
	msn := regexp.MustCompile(`#EXT-X-MEDIA-SEQUENCE:(\d+)`).FindSubmatch(pl)
	segs := bytes.Count(pl, []byte("#EXTINF"))
	if msn == nil {
		t.Fatalf("no media sequence in\n%s", pl)
	}
	first, _ := strconv.Atoi(string(msn[1]))
	res, pl = httpGet(t, mediaURL+"?_HLS_msn="+strconv.Itoa(first+segs)+"&_HLS_part=0")
	if res.StatusCode != http.StatusOK || !bytes.Contains(pl, []byte("#EXT-X-PRELOAD-HINT")) {
		t.Fatalf("blocking reload through the other origin: %d\n%s", res.StatusCode, pl)
	}
	part := regexp.MustCompile(`#EXT-X-PART:[^\n]*URI="([^"]+)"`).FindAllSubmatch(pl, -1)
	if len(part) == 0 {
		t.Fatalf("no part in\n%s", pl)
	}
	res, data := httpGet(t, other+"/videos/"+ls.ID+"/"+string(part[len(part)-1][1]))
	if res.StatusCode != http.StatusOK || len(data) == 0 {
		t.Fatalf("a part through the other origin: %d, %d bytes", res.StatusCode, len(data))
	}
	if res, _ := httpGet(t, other+"/videos/"+ls.ID+"/dvr.m3u8"); res.StatusCode != http.StatusOK {
		t.Fatalf("the DVR through the other origin: %d", res.StatusCode)
	}

	ffmpeg := testenv.Require(t, "ffmpeg")
	dec := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", other+"/videos/"+ls.ID+"/master.m3u8", "-t", "4", "-f", "null", "-")
	var decErr bytes.Buffer
	dec.Stderr = &decErr
	if err := dec.Run(); err != nil || strings.TrimSpace(decErr.String()) != "" {
		t.Fatalf("ffmpeg through the other origin: %v\n%s", err, decErr.String())
	}

	if err := enc.Wait(); err != nil {
		t.Fatalf("encoder: %v", err)
	}
	waitLive(t, other, ls.ID, "ended", 30*time.Second, func(l liveStream) bool { return l.Status == "ended" })
	time.Sleep(time.Second + 100*time.Millisecond) // the other origin's memory of the host
	for _, base := range []string{other, host} {
		if res, body := httpGet(t, base+"/videos/"+ls.ID+"/"+string(media[1])); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s after the end: %d %s", base, res.StatusCode, body)
		}
	}
}

// rtmpOf is the stream's rtmp_url as the origin at base gives it.
func rtmpOf(t *testing.T, base, id string) string {
	t.Helper()
	code, ls, body := liveCall(t, http.MethodGet, base+"/api/v1/live/"+id, "")
	if code != http.StatusOK || ls.RTMPURL == "" {
		t.Fatalf("get on %s: %d %s", base, code, body)
	}
	return ls.RTMPURL
}
