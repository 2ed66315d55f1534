package usagestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/streamfront/streamfront/internal/usage"
	"github.com/streamfront/streamfront/origin/store"
)

// Sink stores reports in S3 under their ID, each once: a report whose key
// already exists (a retry whose first answer was lost, a replay) is taken
// as stored.
type Sink struct {
	Store *store.Store
}

var _ usage.Sink = (*Sink)(nil)

// Put stores r at RawKey(r) unless it is there already.
func (s *Sink) Put(ctx context.Context, r *usage.Report) error {
	if err := r.Validate(); err != nil {
		return err
	}
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("usagestore: encode report %s: %w", r.ID(), err)
	}
	_, err = s.Store.PutIfAbsent(ctx, RawKey(r), body, "application/json")
	if errors.Is(err, store.ErrPrecondition) {
		return nil // the same ID is stored: this copy must not count again
	}
	return err
}
