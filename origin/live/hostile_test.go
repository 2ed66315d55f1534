package live

import (
	"context"
	"math/rand/v2"
	"net/url"
	"testing"
	"time"

	"github.com/bluenviron/gortmplib"
)

// TestIngest_GarbageAfterHandshakeDisconnectsEncoder publishes with a
// valid key, then sends random bytes where RTMP chunks belong: the
// manager must drop the connection and keep serving others.
func TestIngest_GarbageAfterHandshakeDisconnectsEncoder(t *testing.T) {
	l := startLive(t, LatencyLow, Config{HandshakeTimeout: 3 * time.Second})
	u, err := url.Parse(l.rtmpURL + "/" + testKey)
	if err != nil {
		t.Fatal(err)
	}
	c := &gortmplib.Client{URL: u, Publish: true}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Initialize(ctx); err != nil {
		t.Fatalf("publish handshake: %v", err)
	}
	defer c.Close()
	conn := c.NetConn()
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	// Write until the server hangs up; a refusal comes within the
	// handshake timeout at the latest.
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	closed := false
	for range 1000 {
		if _, err := conn.Write(garbage); err != nil {
			closed = true
			break
		}
	}
	if !closed {
		buf := make([]byte, 1<<16)
		for {
			if _, err := conn.Read(buf); err != nil {
				closed = true
				break
			}
		}
	}
	if !closed {
		t.Fatal("the server kept a connection that sends garbage")
	}
	if st := l.m.Status("s1"); st.State == StateLive {
		t.Fatalf("garbage made the stream live: %+v", st)
	}

	// The manager still takes a real encoder.
	push(t, l.rtmpURL+"/"+testKey, 4, h264AAC())
	l.waitEvent(t, EventConnected, 20*time.Second)
}
