package live

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
	rtmpcodecs "github.com/bluenviron/gortmplib/pkg/codecs"
	"github.com/bluenviron/gortmplib/pkg/message"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/streamfront/streamfront/internal/testenv"
)

// TestIngest_AcknowledgesPastHandshakeDeadline publishes like an encoder
// that sets an RTMP acknowledgement window (librtmp-based ones do; ffmpeg
// does not): the server then writes acknowledgements while it reads media,
// long after the handshake deadline, and must not cut the encoder off.
func TestIngest_AcknowledgesPastHandshakeDeadline(t *testing.T) {
	const handshake = 3 * time.Second
	l := startLive(t, LatencyLow, Config{HandshakeTimeout: handshake})
	aus := encodeH264(t, 7)

	u, err := url.Parse(l.rtmpURL + "/" + testKey)
	if err != nil {
		t.Fatal(err)
	}
	c := &gortmplib.Client{URL: u, Publish: true}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// An acknowledgement every 20 kB.
	if err := c.Write(&message.SetWindowAckSize{Value: 20000}); err != nil {
		t.Fatal(err)
	}
	track := &gortmplib.Track{Codec: &rtmpcodecs.H264{SPS: aus.sps, PPS: aus.pps}}
	w := &gortmplib.Writer{Conn: c, Tracks: []*gortmplib.Track{track}}
	if err := w.Initialize(); err != nil {
		t.Fatal(err)
	}
	// Send in real time, as an encoder does, well past the handshake
	// deadline.
	start := time.Now()
	for i, au := range aus.units {
		pts := time.Duration(i) * 40 * time.Millisecond
		time.Sleep(time.Until(start.Add(pts)))
		if err := w.WriteH264(track, pts, pts, au); err != nil {
			t.Fatalf("frame %d (%v in): the server hung up: %v (status %+v)", i, pts, err, l.m.Status("s1"))
		}
	}
	if st := l.m.Status("s1"); st.State != StateLive || st.Connections != 1 {
		t.Fatalf("status after %v of media: %+v, want live on the first connection", time.Since(start), st)
	}
	c.Close()
	if e := l.waitEvent(t, EventDisconnected, 20*time.Second); e.Reason != "" {
		t.Errorf("disconnected with the reason %q", e.Reason)
	}
}

// h264Units are H.264 access units and the parameter sets they use.
type h264Units struct {
	sps, pps []byte
	units    [][][]byte
}

// encodeH264 has ffmpeg encode seconds of a 25 fps test pattern to an
// Annex B file with access unit delimiters and splits it at them.
func encodeH264(t *testing.T, seconds int) h264Units {
	t.Helper()
	ffmpeg := testenv.Require(t, "ffmpeg")
	out := filepath.Join(t.TempDir(), "pattern.h264")
	cmd := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
		"-t", strconv.Itoa(seconds), "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", "25",
		"-pix_fmt", "yuv420p", "-x264-params", "aud=1", "-f", "h264", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, stderr.String())
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// x264 starts each access unit with a delimiter after a 4-byte start
	// code; mediacommon parses one access unit at a time.
	var u h264Units
	for _, chunk := range bytes.Split(raw, []byte{0, 0, 0, 1, 9}) {
		if len(chunk) == 0 {
			continue
		}
		var nalus h264.AnnexB
		if err := nalus.Unmarshal(append([]byte{0, 0, 0, 1, 9}, chunk...)); err != nil {
			t.Fatal(err)
		}
		var au [][]byte
		for _, n := range nalus {
			switch h264.NALUType(n[0] & 0x1f) {
			case h264.NALUTypeAccessUnitDelimiter:
				continue
			case h264.NALUTypeSPS:
				u.sps = n
			case h264.NALUTypePPS:
				u.pps = n
			}
			au = append(au, n)
		}
		u.units = append(u.units, au)
	}
	if u.sps == nil || u.pps == nil || len(u.units) < 25*seconds-1 {
		t.Fatalf("pattern: SPS %v, PPS %v, %d access units", u.sps != nil, u.pps != nil, len(u.units))
	}
	return u
}
