package origin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/origin/store"
)

// Live stream states as the API shows them. A stream is idle until an
// encoder publishes, live while one does (and idle again in the reconnect
// window), and ended once the broadcast is over.
const (
	liveIdle  = "idle"
	liveLive  = "live"
	liveEnded = "ended"
)

// liveStream is the stored record of one live stream, in S3 beside the
// catalog (live/{id}/meta.json), so every origin process sees the same
// streams and keys. Updates are read-modify-write with If-Match, as the
// catalog's are.
type liveStream struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Tags        []string `json:"tags"`
	Latency     string   `json:"latency"`
	Record      bool     `json:"record"`
	DVRWindowS  int      `json:"dvr_window_s"`
	// Ladder asks for renditions below the source while it broadcasts
	// (live_ladder.go).
	Ladder bool `json:"ladder,omitempty"`
	// StreamKey is the secret an encoder publishes with. It begins with the
	// stream's ID, so a key is checked with one read and no index.
	StreamKey string `json:"stream_key"`
	Status    string `json:"status"`
	// Error is why the last encoder was refused or disconnected, as a
	// sentence the broadcaster can act on; empty while all is well.
	Error string `json:"error,omitempty"`
	// Broadcast numbers the broadcasts, from 1; 0 before the first.
	Broadcast int `json:"broadcast"`
	// VideoID is the recording of the last broadcast that has one.
	VideoID string `json:"video_id,omitempty"`
	// Recordings are the videos made of every broadcast, oldest first;
	// RecordingOf maps a broadcast's number to its video.
	Recordings  []string          `json:"recordings,omitempty"`
	RecordingOf map[string]string `json:"recording_of,omitempty"`
	// StartedAt is when the current (or last) broadcast began, EndedAt
	// when it ended (nil while it is on).
	StartedAt *time.Time `json:"started_at,omitempty"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	// HostSeenAt is the last renewal of the broadcast's lease by the
	// origin hosting it (live_lease.go).
	HostSeenAt *time.Time `json:"host_seen_at,omitempty"`
	// HostURL is where other origins reach that origin (its PeerURL), to
	// forward the broadcast's viewers there (live_forward.go).
	HostURL   string    `json:"host_url,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// errNoLiveStream is what a lookup of a stream that does not exist returns.
var errNoLiveStream = errorf(404, "There is no live stream with this ID.")

// maxLiveRecord bounds a live record read.
const maxLiveRecord = 256 << 10

// liveStore keeps the live stream records.
type liveStore struct{ s *store.Store }

func livePrefix(id string) string { return "live/" + id + "/" }

func liveMetaKey(id string) string { return livePrefix(id) + "meta.json" }

// newStreamKey makes a publishing key for stream id: the ID, then 128
// random bits.
func newStreamKey(id string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return id + "-" + hex.EncodeToString(b[:])
}

// streamIDOfKey is the stream a key claims to open (to be checked against
// the record).
func streamIDOfKey(key string) (string, bool) {
	id, _, ok := strings.Cut(key, "-")
	return id, ok && catalog.ValidID(id)
}

// keyMatches compares keys in constant time.
func keyMatches(stored, given string) bool {
	return stored != "" && subtle.ConstantTimeCompare([]byte(stored), []byte(given)) == 1
}

func (l liveStore) create(ctx context.Context, ls *liveStream) error {
	ls.CreatedAt = time.Now().UTC()
	ls.UpdatedAt = ls.CreatedAt
	body, err := json.Marshal(ls)
	if err != nil {
		return err
	}
	if _, err := l.s.PutIfAbsent(ctx, liveMetaKey(ls.ID), body, "application/json"); err != nil {
		return fmt.Errorf("live: create %s: %w", ls.ID, err)
	}
	return nil
}

func (l liveStore) get(ctx context.Context, id string) (*liveStream, error) {
	ls, _, err := l.getTagged(ctx, id)
	return ls, err
}

func (l liveStore) getTagged(ctx context.Context, id string) (*liveStream, string, error) {
	if !catalog.ValidID(id) {
		return nil, "", errNoLiveStream
	}
	body, etag, err := l.s.Get(ctx, liveMetaKey(id), maxLiveRecord)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", errNoLiveStream
	}
	if err != nil {
		return nil, "", fmt.Errorf("live: get %s: %w", id, err)
	}
	var ls liveStream
	if err := json.Unmarshal(body, &ls); err != nil {
		return nil, "", fmt.Errorf("live: record %s is corrupt: %w", id, err)
	}
	return &ls, etag, nil
}

// update applies fn to the current record and stores it if nobody changed
// it meanwhile, retrying on a lost race; fn may run several times.
func (l liveStore) update(ctx context.Context, id string, fn func(*liveStream) error) (*liveStream, error) {
	for attempt := 0; ; attempt++ {
		ls, etag, err := l.getTagged(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := fn(ls); err != nil {
			return nil, err
		}
		ls.UpdatedAt = time.Now().UTC()
		body, err := json.Marshal(ls)
		if err != nil {
			return nil, err
		}
		_, err = l.s.PutIfMatch(ctx, liveMetaKey(id), body, "application/json", etag)
		if err == nil {
			return ls, nil
		}
		if !errors.Is(err, store.ErrPrecondition) || attempt >= 20 {
			return nil, fmt.Errorf("live: update %s: %w", id, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
}

// list returns up to limit streams after cursor, newest first (IDs sort
// newest first, as the catalog's do), and the next cursor.
func (l liveStore) list(ctx context.Context, cursor string, limit int) ([]*liveStream, string, error) {
	after := ""
	if cursor != "" {
		after = livePrefix(cursor) + "\xff"
	}
	keys, more, err := l.s.ListPage(ctx, "live/", after, "/", int32(limit))
	if err != nil {
		return nil, "", fmt.Errorf("live: list: %w", err)
	}
	var out []*liveStream
	last := ""
	for _, k := range keys {
		id := strings.TrimSuffix(strings.TrimPrefix(k, "live/"), "/")
		if !catalog.ValidID(id) {
			continue
		}
		last = id
		ls, err := l.get(ctx, id)
		if errors.Is(err, errNoLiveStream) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, "", err
		}
		out = append(out, ls)
	}
	next := ""
	if more {
		next = last
	}
	return out, next, nil
}

// delete removes the record (and the recordings kept beside it by older
// versions); the videos made of broadcasts stay (they are videos like any
// other).
func (l liveStore) delete(ctx context.Context, id string) error {
	if err := l.s.DeletePrefix(ctx, recPrefix(id)); err != nil {
		return err
	}
	return l.s.DeletePrefix(ctx, livePrefix(id))
}
