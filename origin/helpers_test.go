package origin_test

import (
	"testing"

	"github.com/streamfront/streamfront/internal/natsserver"
	"github.com/streamfront/streamfront/internal/testenv"
)

// backend is what origins and workers share: a real S3 and a real NATS.
type backend struct {
	*testenv.S3
	NATS string
}

func startBackend(t *testing.T) *backend {
	t.Helper()
	s3 := testenv.StartS3(t)
	ns, err := natsserver.Start(natsserver.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Close)
	return &backend{S3: s3, NATS: ns.URL()}
}
