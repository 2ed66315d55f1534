package usage_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/streamfront/streamfront/internal/usage"
)

// An edge meters each response it sends; how the lead may wire it: the
// Sink would be a usage.QueueSink on the queue's usage.QueueKind, the time
// the one the edge read for its access log.
func ExampleMeter() {
	sink := &recorder{}
	m, err := usage.New(usage.Config{Edge: "edge-1", Sink: sink})
	if err != nil {
		panic(err)
	}
	path := "/videos/0vq5m2k9/hls/720p/video/3.m4s"
	video, kind := usage.Classify(path)
	m.Add(usage.Event{Video: video, Kind: kind, Result: usage.ResultMiss,
		BytesOut: 812_345, OriginBytes: 812_345, Delivered: 4 * time.Second, At: time.Now()})

	// On shutdown, after the listeners drained:
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Close(ctx); err != nil {
		fmt.Println(err)
	}
	for _, r := range sink.records() {
		fmt.Println(r.Edge, r.Video, r.Kind, r.Result, r.Requests, r.BytesOut, time.Duration(r.DeliveredNanos))
	}
	// Output: edge-1 0vq5m2k9 hls-segment miss 1 812345 4s
}

// The origin answers a usage query and its bill.
func ExampleEstimate() {
	totals := usage.Totals{BytesOut: 12 << 40, Requests: 30_000_000, DeliveredSeconds: 3_000_000}
	bill := usage.Estimate(totals, 1200, 50_000, usage.DefaultPrices())
	for _, p := range []usage.Plan{bill.PayAsYouGo, bill.PerMinute} {
		for _, li := range p.Items {
			fmt.Fprintf(os.Stdout, "%-40s %12.2f %-16s × %.4f = %9.2f\n", li.Name, li.Quantity, li.Unit, li.UnitPrice, li.Amount)
		}
		fmt.Printf("%s: %.2f %s\n", p.Name, p.Total, bill.Currency)
	}
	// Output:
	// data out 0 to 10 TB                          10240.00 GB               × 0.0850 =    870.40
	// data out 10 TB to 50 TB                       2048.00 GB               × 0.0800 =    163.84
	// requests                                      3000.00 10,000 requests  × 0.0100 =     30.00
	// invalidation paths beyond the free ones        200.00 path             × 0.0050 =      1.00
	// pay-as-you-go: 1065.24 USD
	// minutes stored                                  50.00 1,000 minutes    × 5.0000 =    250.00
	// minutes delivered                               50.00 1,000 minutes    × 1.0000 =     50.00
	// per-minute: 300.00 USD
}
