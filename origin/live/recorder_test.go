package live

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/testenv"
)

// memorySink is a Sink that keeps everything in memory.
type memorySink struct {
	mu       sync.Mutex
	inits    []RecordedInit
	segments []RecordedSegment
	ended    chan int // broadcast numbers
}

func newMemorySink() *memorySink { return &memorySink{ended: make(chan int, 10)} }

func (s *memorySink) WriteInit(_ context.Context, init RecordedInit) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inits = append(s.inits, init)
	return nil
}

func (s *memorySink) WriteSegment(_ context.Context, seg RecordedSegment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.segments = append(s.segments, seg)
	return nil
}

func (s *memorySink) EndBroadcast(_ context.Context, _ string, broadcast int) error {
	s.ended <- broadcast
	return nil
}

// file writes track's init segment and segments of generation gen, in
// order, as one fragmented MP4.
func (s *memorySink) file(t *testing.T, dir, track string, gen int) (string, time.Duration, int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var data []byte
	for _, in := range s.inits {
		if in.Track == track && in.Generation == gen {
			data = append(data, in.Data...)
		}
	}
	if data == nil {
		t.Fatalf("no init segment for %s, generation %d", track, gen)
	}
	var dur time.Duration
	n, want := 0, -1
	for _, seg := range s.segments {
		if seg.Track != track || seg.Generation != gen {
			continue
		}
		if want >= 0 && seg.Sequence != want {
			t.Errorf("%s: segment %d after %d: the recording has a hole", track, seg.Sequence, want-1)
		}
		if seg.ProgramDateTime.IsZero() {
			t.Errorf("%s: segment %d has no program date-time", track, seg.Sequence)
		}
		want = seg.Sequence + 1
		data = append(data, seg.Data...)
		dur += seg.Duration
		n++
	}
	p := filepath.Join(dir, track+".mp4")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, dur, n
}

func TestRecorder_RecordsWholeBroadcast(t *testing.T) {
	for _, lat := range []Latency{LatencyLow, LatencyStandard} {
		t.Run(string(lat), func(t *testing.T) {
			sink := newMemorySink()
			l := startLive(t, lat, Config{Recorder: sink, ReconnectWindow: time.Second})
			const seconds = 8
			enc := push(t, l.rtmpURL+"/"+testKey, seconds, h264AAC())
			l.waitEvent(t, EventConnected, 20*time.Second)
			_ = enc.wait(t, 30*time.Second)
			l.waitEvent(t, EventEnded, 20*time.Second)
			select {
			case b := <-sink.ended:
				if b != 1 {
					t.Errorf("EndBroadcast for broadcast %d, want 1", b)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the sink never heard the broadcast end")
			}
			dir := t.TempDir()
			for _, track := range []string{"video1", "audio2"} {
				p, listed, n := sink.file(t, dir, track, 1)
				decoded := testenv.Decode(t, p)
				t.Logf("%s latency, %s: %d segments, %v listed, %.2f s decoded, %d s sent", lat, track, n, listed, decoded, seconds)
				if d := decoded - seconds; d < -1 || d > 1 {
					t.Errorf("%s: the recording decodes to %.2f s; %d s were sent", track, decoded, seconds)
				}
			}
		})
	}
}
