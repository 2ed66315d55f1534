package origin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/streamfront/streamfront/origin/store"
)

// What an origin killed with -9 mid-broadcast leaves: the stream's record
// says live, with a lease renewed last a minute ago. Another origin ends
// it within a sweep and says why; nothing is left live forever.
func TestLive_ABroadcastWhoseHostWasKilledIsEndedByAnotherOrigin(t *testing.T) {
	b := startBackend(t)
	base := startOriginOn(t, b, 0, withLive(t)).URL
	code, ls, body := liveCall(t, http.MethodPost, base+"/api/v1/live", `{"title": "Orphan", "record": false}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}

	st, err := store.New(s3Config(b.S3))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := "live/" + ls.ID + "/meta.json"
	raw, _, err := st.Get(ctx, key, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	gone := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	rec["status"], rec["broadcast"], rec["started_at"], rec["host_seen_at"], rec["updated_at"] = "live", 1, gone, gone, gone
	raw, _ = json.Marshal(rec)
	if err := st.Put(ctx, key, raw, "application/json"); err != nil {
		t.Fatal(err)
	}

	// A sweep runs every 10 s; 30 s only guards against hanging.
	ended := waitLive(t, base, ls.ID, "ended by the lease sweep", 30*time.Second, func(l liveStream) bool { return l.Status == "ended" })
	if !strings.Contains(ended.Error, "stopped answering") {
		t.Errorf("the ended stream does not say why: %q", ended.Error)
	}
}
