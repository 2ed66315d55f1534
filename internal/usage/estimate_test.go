package usage_test

import (
	"math"
	"testing"

	"github.com/streamfront/streamfront/internal/usage"
)

const tb = 1024 * usage.GB

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestEstimate_TransferTiers(t *testing.T) {
	tests := []struct {
		name  string
		bytes int64
		want  float64
	}{
		{"nothing", 0, 0},
		{"1 GB", usage.GB, 0.085},
		{"12 TB = 10 TB × 0.085 + 2 TB × 0.080", 12 * tb, 10*1024*0.085 + 2*1024*0.080},
		{"exactly 10 TB", 10 * tb, 10 * 1024 * 0.085},
		{"6 PB crosses every tier", 6 * 1024 * tb,
			1024 * (10*0.085 + 40*0.080 + 100*0.060 + 350*0.040 + 524*0.030 + 4*1024*0.025 + 1024*0.020)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := usage.Estimate(usage.Totals{BytesOut: tt.bytes}, 0, 0, usage.DefaultPrices())
			var transfer float64
			for _, li := range b.PayAsYouGo.Items {
				if li.Unit == "GB" {
					transfer += li.Amount
				}
			}
			if !near(transfer, tt.want) || !near(b.PayAsYouGo.Total, tt.want) {
				t.Fatalf("transfer %v, total %v; want %v (items %+v)", transfer, b.PayAsYouGo.Total, tt.want, b.PayAsYouGo.Items)
			}
		})
	}
}

func TestEstimate_TwelveTBLines(t *testing.T) {
	b := usage.Estimate(usage.Totals{BytesOut: 12 * tb}, 0, 0, usage.DefaultPrices())
	items := b.PayAsYouGo.Items
	if len(items) != 3 || items[0].Name != "data out 0 to 10 TB" || items[0].Quantity != 10240 ||
		items[1].Name != "data out 10 TB to 50 TB" || items[1].Quantity != 2048 || items[2].Name != "requests" {
		t.Fatalf("items %+v", items)
	}
}

func TestEstimate_RequestsInvalidationsAndPerMinute(t *testing.T) {
	tot := usage.Totals{Requests: 25_000_000, DeliveredSeconds: 600_000} // 10,000 minutes delivered
	b := usage.Estimate(tot, 1500, 2000, usage.DefaultPrices())
	// 2,500 × $0.01 for requests, 500 paid paths × $0.005.
	if !near(b.PayAsYouGo.Total, 25+2.5) {
		t.Fatalf("pay-as-you-go %+v", b.PayAsYouGo)
	}
	// 2 × $5 stored, 10 × $1 delivered.
	if !near(b.PerMinute.Total, 10+10) {
		t.Fatalf("per-minute %+v", b.PerMinute)
	}
	if b := usage.Estimate(tot, 1000, 0, usage.DefaultPrices()); !near(b.PayAsYouGo.Total, 25) {
		t.Fatalf("the first 1,000 paths are free: %+v", b.PayAsYouGo)
	}
}
