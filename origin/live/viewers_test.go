package live

import (
	"net/http"
	"testing"
	"time"

	"github.com/streamfront/streamfront/internal/livehdr"
)

func TestViewerReports_SumRecentReportsPerEdge(t *testing.T) {
	var v viewerReports
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	report := func(value string, at time.Time) {
		v.note("s1", http.Header{livehdr.Viewers: {value}}, at)
	}
	report("edge-a=10", t0)
	report("edge-b=5", t0)
	report("edge-a=12", t0.Add(time.Second)) // replaces edge-a's report
	report("bogus", t0.Add(time.Second))     // ignored
	report("edge-c=-4", t0.Add(time.Second)) // ignored
	if got := v.count("s1", t0.Add(2*time.Second)); got != 17 {
		t.Errorf("count = %d, want 17", got)
	}
	if got := v.count("other", t0); got != 0 {
		t.Errorf("count of a stream without reports = %d", got)
	}
	// edge-b stopped reporting: its viewers age out.
	report("edge-a=3", t0.Add(viewerReportTTL))
	if got := v.count("s1", t0.Add(viewerReportTTL+2*time.Second)); got != 3 {
		t.Errorf("count after edge-b's report aged = %d, want 3", got)
	}
	if got := v.count("s1", t0.Add(3*viewerReportTTL)); got != 0 {
		t.Errorf("count after every report aged = %d, want 0", got)
	}
}
