package bench

import (
	"testing"
	"time"
)

// A report as wrk 4.1.0 prints it with --latency (no server is started:
// this only checks the parser).
const wrkReport = `Running 10s test @ http://127.0.0.1:41234/videos/x/hls/src/video.m3u8
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.19ms    2.01ms  41.80ms   91.17%
    Req/Sec    38.70k     3.92k   46.61k    70.50%
  Latency Distribution
     50%  551.00us
     75%    1.04ms
     90%    2.63ms
     99%   10.32ms
  770168 requests in 10.01s, 603.57MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:  76941.33
Transfer/sec:     60.30MB
`

func TestParseWrk_ReadsRateLatencyAndErrors(t *testing.T) {
	res, err := parseWrk(wrkReport)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{
		Requests:     770168,
		RequestsPerS: 76941.33,
		TransferPerS: 60.30 * (1 << 20),
		P50:          551 * time.Microsecond,
		P99:          10320 * time.Microsecond,
		SocketErrors: 5,
		Non2xx3xx:    7,
	}
	if res != want {
		t.Errorf("parseWrk:\n got %+v\nwant %+v", res, want)
	}
}

func TestParseWrk_RefusesReportWithoutLatency(t *testing.T) {
	if _, err := parseWrk("Requests/sec: 1.0\nTransfer/sec: 1.00KB\n"); err == nil {
		t.Error("a report without the 99% line was accepted")
	}
}

func TestParseWrkUnits(t *testing.T) {
	durations := []struct {
		in   string
		want time.Duration
	}{{"635.91us", 635910 * time.Nanosecond}, {"1.20ms", 1200 * time.Microsecond}, {"2.00s", 2 * time.Second}, {"1.50m", 90 * time.Second}}
	for _, tc := range durations {
		if got, err := parseWrkDuration(tc.in); err != nil || got != tc.want {
			t.Errorf("parseWrkDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	sizes := []struct {
		in   string
		want float64
	}{{"512.00B", 512}, {"1.50KB", 1536}, {"2.00MB", 2 << 20}, {"1.00GB", 1 << 30}}
	for _, tc := range sizes {
		if got, err := parseWrkBytes(tc.in); err != nil || got != tc.want {
			t.Errorf("parseWrkBytes(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := parseWrkDuration("3.0fortnights"); err == nil {
		t.Error("an unknown unit was accepted")
	}
}
