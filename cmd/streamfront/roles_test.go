package main

import (
	"io"
	"testing"
	"time"

	"github.com/streamfront/streamfront/edge"
)

func TestEdgeFlags_BehaviorsFromJSON(t *testing.T) {
	var cfg edge.Config
	var accessLog, level string
	err := edgeFlags(&cfg, &accessLog, &level, io.Discard).parse([]string{"-behaviors",
		`[{"pattern":"/videos/**.m3u8","max_ttl":"10s","query_keys":[]},{"pattern":"/videos/**","default_ttl":"1h"}]`})
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.Behaviors
	if len(b) != 2 || b[0].MaxTTL != 10*time.Second || b[0].QueryKeys == nil || len(b[0].QueryKeys) != 0 ||
		b[1].DefaultTTL != time.Hour || b[1].QueryKeys != nil {
		t.Fatalf("parsed %+v", b)
	}
	for _, bad := range []string{`{"pattern":"x"}`, `[{"pattern":"x","max_ttl":"soon"}]`, `[{"pattern":"x","ttl":"1s"}]`} {
		var c edge.Config
		if err := edgeFlags(&c, &accessLog, &level, io.Discard).parse([]string{"-behaviors", bad}); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
