package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/streamfront/streamfront/origin/store"
)

// Event types. An endpoint with no types listed gets all of them.
const (
	VideoCreated        = "video.created"
	VideoReady          = "video.ready"    // playable (more renditions may follow)
	VideoComplete       = "video.complete" // every rendition stored
	VideoFailed         = "video.failed"
	VideoUpdated        = "video.updated"
	VideoDeleted        = "video.deleted"
	LiveConnected       = "live.connected"
	LiveDisconnected    = "live.disconnected"
	LiveRecordingReady  = "live.recording_ready"
	Test                = "webhook.test" // sent by SendTest only
	maxEndpoints        = 100
	maxURL              = 2048
	endpointsPrefix     = "webhooks/endpoints/"
	maxEndpointRecord   = 64 << 10
	endpointContentType = "application/json"
)

// Types lists the event types an endpoint can ask for.
var Types = []string{VideoCreated, VideoReady, VideoComplete, VideoFailed, VideoUpdated, VideoDeleted,
	LiveConnected, LiveDisconnected, LiveRecordingReady}

// Endpoint is a receiver of events.
type Endpoint struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Secret keys the signatures; shown when the endpoint is created and
	// by Get (the API guards it with the admin key).
	Secret string `json:"secret"`
	// Events are the types sent; empty means all.
	Events    []string  `json:"events"`
	CreatedAt time.Time `json:"created_at"`
}

// Wants reports whether the endpoint is sent events of type t.
func (e *Endpoint) Wants(t string) bool {
	return t == Test || len(e.Events) == 0 || slices.Contains(e.Events, t)
}

// InputError is a request the caller must change; its text says how.
type InputError struct{ msg string }

func (e *InputError) Error() string { return e.msg }

// ErrNotFound means there is no endpoint with that ID.
var ErrNotFound = errors.New("webhooks: no such endpoint")

func checkEndpoint(raw string, events []string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(raw) > maxURL {
		return &InputError{"url must be an absolute http or https URL (at most 2048 characters)."}
	}
	if u.User != nil {
		return &InputError{"url may not carry a user name or password; authenticate with the signature instead."}
	}
	for _, t := range events {
		if !slices.Contains(Types, t) {
			return &InputError{fmt.Sprintf("%q is not an event type; use some of: %s.", t, strings.Join(Types, ", "))}
		}
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

func validID(id string) bool {
	if len(id) != 3+24 || !strings.HasPrefix(id, "wh_") {
		return false
	}
	_, err := hex.DecodeString(id[3:])
	return err == nil
}

func endpointKey(id string) string { return endpointsPrefix + id + ".json" }

// endpoints keeps the endpoints in S3, one object each, so every origin
// sees the same ones.
type endpoints struct{ st *store.Store }

func (e endpoints) create(ctx context.Context, rawURL string, events []string, now time.Time) (*Endpoint, error) {
	if err := checkEndpoint(rawURL, events); err != nil {
		return nil, err
	}
	all, err := e.list(ctx)
	if err != nil {
		return nil, err
	}
	if len(all) >= maxEndpoints {
		return nil, &InputError{fmt.Sprintf("there are %d endpoints already, the most allowed; delete one first.", maxEndpoints)}
	}
	if events == nil {
		events = []string{}
	}
	ep := &Endpoint{ID: "wh_" + randomHex(12), URL: rawURL, Secret: "whsec_" + randomHex(32), Events: events, CreatedAt: now.UTC()}
	body, _ := json.Marshal(ep)
	if _, err := e.st.PutIfAbsent(ctx, endpointKey(ep.ID), body, endpointContentType); err != nil {
		return nil, err
	}
	return ep, nil
}

func (e endpoints) get(ctx context.Context, id string) (*Endpoint, error) {
	if !validID(id) {
		return nil, ErrNotFound
	}
	body, _, err := e.st.Get(ctx, endpointKey(id), maxEndpointRecord)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var ep Endpoint
	if err := json.Unmarshal(body, &ep); err != nil {
		return nil, fmt.Errorf("webhooks: endpoint %s: %w", id, err)
	}
	return &ep, nil
}

// list reads every endpoint (at most maxEndpoints, oldest first).
func (e endpoints) list(ctx context.Context) ([]*Endpoint, error) {
	keys, _, err := e.st.ListPage(ctx, endpointsPrefix, "", "", maxEndpoints+1)
	if err != nil {
		return nil, err
	}
	out := []*Endpoint{}
	for _, k := range keys {
		ep, err := e.get(ctx, strings.TrimSuffix(strings.TrimPrefix(k, endpointsPrefix), ".json"))
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ep)
	}
	slices.SortFunc(out, func(a, b *Endpoint) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

func (e endpoints) delete(ctx context.Context, id string) error {
	if _, err := e.get(ctx, id); err != nil {
		return err
	}
	return e.st.Delete(ctx, endpointKey(id))
}
