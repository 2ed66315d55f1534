package origin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/streamfront/streamfront/origin/catalog"
)

// Views: the player reports a view after 30 s of playback (or 75 % of a
// short video); each viewer counts once per video per hour. No personal
// data is stored: a viewer is a hash of the hour's random salt, the video,
// the client's address and its User-Agent, kept in a NATS key-value bucket
// for an hour, and the salt expires with it, so an old hash cannot be
// linked to anyone. The bucket is shared by every origin, so a viewer
// whose reports reach two origins still counts once.
//
// Counts are added to the catalog in batches (one conditional update per
// video every viewFlushEvery), not per view: the catalog is an S3 object
// per video. An origin killed with SIGKILL loses at most the views of the
// last interval; a graceful stop flushes them.

const (
	viewBucket     = "STREAMFRONT_VIEWS"
	viewFlushEvery = 5 * time.Second
)

// viewCounter holds the views counted and not yet in the catalog.
type viewCounter struct {
	kv      jetstream.KeyValue
	catalog *catalog.Catalog
	log     *slog.Logger

	mu      sync.Mutex
	pending map[string]int64
	salts   map[int64][]byte // hour → salt
}

func newViewCounter(kv jetstream.KeyValue, c *catalog.Catalog, log *slog.Logger) *viewCounter {
	return &viewCounter{kv: kv, catalog: c, log: log, pending: map[string]int64{}, salts: map[int64][]byte{}}
}

// count records a view of id by the viewer r came from, unless that viewer
// was counted for id this hour.
func (vc *viewCounter) count(ctx context.Context, id string, r *http.Request, now time.Time) (bool, error) {
	hour := now.Unix() / 3600
	salt, err := vc.salt(ctx, hour)
	if err != nil {
		return false, err
	}
	h := sha256.New()
	for _, part := range []string{id, clientAddr(r), r.UserAgent()} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(salt)
	key := "v." + strconv.FormatInt(hour, 10) + "." + hex.EncodeToString(h.Sum(nil)[:16])
	if _, err := vc.kv.Create(ctx, key, nil); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return false, nil
		}
		return false, err
	}
	vc.mu.Lock()
	vc.pending[id]++
	vc.mu.Unlock()
	return true, nil
}

// salt is the hour's random salt, made by the first origin that needs it.
func (vc *viewCounter) salt(ctx context.Context, hour int64) ([]byte, error) {
	vc.mu.Lock()
	s, ok := vc.salts[hour]
	vc.mu.Unlock()
	if ok {
		return s, nil
	}
	key := "salt." + strconv.FormatInt(hour, 10)
	fresh := make([]byte, 32)
	rand.Read(fresh) // never fails (crypto/rand)
	if _, err := vc.kv.Create(ctx, key, fresh); err == nil {
		s = fresh
	} else if errors.Is(err, jetstream.ErrKeyExists) {
		e, err := vc.kv.Get(ctx, key)
		if err != nil {
			return nil, err
		}
		s = e.Value()
	} else {
		return nil, err
	}
	vc.mu.Lock()
	for h := range vc.salts {
		if h < hour-1 {
			delete(vc.salts, h)
		}
	}
	vc.salts[hour] = s
	vc.mu.Unlock()
	return s, nil
}

// run adds the counted views to the catalog every viewFlushEvery, and
// once more when ctx ends.
func (vc *viewCounter) run(ctx context.Context) {
	t := time.NewTicker(viewFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			vc.flush(context.WithoutCancel(ctx))
			return
		case <-t.C:
			vc.flush(ctx)
		}
	}
}

func (vc *viewCounter) flush(ctx context.Context) {
	vc.mu.Lock()
	batch := vc.pending
	vc.pending = map[string]int64{}
	vc.mu.Unlock()
	for id, n := range batch {
		_, err := vc.catalog.Update(ctx, id, func(v *catalog.Video) error {
			v.Views += n
			return nil
		})
		switch {
		case errors.Is(err, catalog.ErrNotFound):
			// deleted since: its views go with it
		case err != nil:
			vc.log.Warn("views not added yet; retrying at the next flush", slog.String("video", id), slog.Int64("views", n), slog.Any("err", err))
			vc.mu.Lock()
			vc.pending[id] += n
			vc.mu.Unlock()
		}
	}
}

// clientAddr is the viewer's address: the last X-Forwarded-For entry (the
// one the site's proxy, which replaces what clients send, put there), or
// the connection's peer.
func clientAddr(r *http.Request) string {
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		last := xff[len(xff)-1]
		if i := strings.LastIndexByte(last, ','); i >= 0 {
			last = last[i+1:]
		}
		if a := strings.TrimSpace(last); a != "" {
			return a
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// recordView is POST /api/v1/videos/{id}/views, the player's report.
func (s *Server) recordView(w http.ResponseWriter, r *http.Request) error {
	v, err := s.catalog.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	if v.Status != catalog.Ready {
		return errorf(http.StatusConflict, "This video is not ready: it cannot have been watched yet.")
	}
	if s.views == nil {
		return errorf(http.StatusServiceUnavailable, "Views cannot be counted right now; the player may try again later.")
	}
	counted, err := s.views.count(r.Context(), v.ID, r, time.Now())
	if err != nil {
		s.log.Warn("view not counted", slog.String("video", v.ID), slog.Any("err", err))
		return errorf(http.StatusServiceUnavailable, "Views cannot be counted right now; the player may try again later.")
	}
	return writeJSON(w, http.StatusAccepted, map[string]bool{"counted": counted})
}
