package usage

import (
	"math"
	"strconv"
)

// GB is the unit data transfer is priced in. AWS bills "GB" as 2^30 bytes;
// TB and PB in the tiers below are 1024 GB and 1024 TB.
const GB = 1 << 30

// Tier prices data transfer up to a cumulative volume.
type Tier struct {
	// UpToGB is where the tier ends, counted from the first byte of the
	// period; 0 means without end (the last tier).
	UpToGB float64 `json:"up_to_gb" yaml:"up_to_gb"`
	// PerGB is the price of each GB within the tier.
	PerGB float64 `json:"per_gb" yaml:"per_gb"`
}

// Prices is a price table: a pay-as-you-go plan (data out, requests,
// invalidations) and a per-minute plan (minutes stored and delivered).
// The configuration file will carry one; DefaultPrices fills what it
// leaves out.
type Prices struct {
	Currency string `json:"currency" yaml:"currency"`
	// Transfer prices data out to viewers by cumulative tier, in order.
	Transfer []Tier `json:"transfer" yaml:"transfer"`
	// Per10kRequests is the price of 10,000 requests.
	Per10kRequests float64 `json:"per_10k_requests" yaml:"per_10k_requests"`
	// FreeInvalidationPaths are free each month; each path beyond costs
	// PerInvalidationPath.
	FreeInvalidationPaths int64   `json:"free_invalidation_paths" yaml:"free_invalidation_paths"`
	PerInvalidationPath   float64 `json:"per_invalidation_path" yaml:"per_invalidation_path"`
	// Per1kMinutesStored and Per1kMinutesDelivered price the per-minute
	// plan.
	Per1kMinutesStored    float64 `json:"per_1k_minutes_stored" yaml:"per_1k_minutes_stored"`
	Per1kMinutesDelivered float64 `json:"per_1k_minutes_delivered" yaml:"per_1k_minutes_delivered"`
}

// DefaultPrices are CloudFront-like and Cloudflare-Stream-like list prices.
//
// Where they come from (written without a browser, from the prices as
// published up to 2025 and assumed unchanged in 2026; an operator should
// check them against the live pages):
//   - Data transfer out and requests: Amazon CloudFront's pricing page
//     (aws.amazon.com/cloudfront/pricing), "United States, Mexico, &
//     Canada" and "Europe & Israel", pay-as-you-go: first 10 TB/month
//     $0.085/GB, next 40 TB $0.080, next 100 TB $0.060, next 350 TB
//     $0.040, next 524 TB $0.030, next 4 PB $0.025, over 5 PB $0.020;
//     HTTPS requests $0.0100 per 10,000. The always-free tier (1 TB and
//     10 M requests a month) is left out: it is a promotion, not a price.
//   - Invalidations: same page, first 1,000 paths a month free, then
//     $0.005 per path.
//   - Per-minute plan: Cloudflare Stream's pricing
//     (developers.cloudflare.com/stream/pricing), $5 per 1,000 minutes
//     stored and $1 per 1,000 minutes delivered.
func DefaultPrices() Prices {
	const tb = 1024
	return Prices{
		Currency: "USD",
		Transfer: []Tier{
			{UpToGB: 10 * tb, PerGB: 0.085},
			{UpToGB: 50 * tb, PerGB: 0.080},
			{UpToGB: 150 * tb, PerGB: 0.060},
			{UpToGB: 500 * tb, PerGB: 0.040},
			{UpToGB: 1024 * tb, PerGB: 0.030},
			{UpToGB: 5 * 1024 * tb, PerGB: 0.025},
			{UpToGB: 0, PerGB: 0.020},
		},
		Per10kRequests:        0.0100,
		FreeInvalidationPaths: 1000,
		PerInvalidationPath:   0.005,
		Per1kMinutesStored:    5,
		Per1kMinutesDelivered: 1,
	}
}

// LineItem is one line of a bill.
type LineItem struct {
	Name      string  `json:"name"`
	Quantity  float64 `json:"quantity"`
	Unit      string  `json:"unit"`
	UnitPrice float64 `json:"unit_price"`
	Amount    float64 `json:"amount"`
}

// Plan is one way of billing the period: its lines and their total.
type Plan struct {
	Name  string     `json:"name"`
	Items []LineItem `json:"items"`
	Total float64    `json:"total"`
}

// Bill is the estimate under both plans.
type Bill struct {
	Currency   string `json:"currency"`
	PayAsYouGo Plan   `json:"pay_as_you_go"`
	PerMinute  Plan   `json:"per_minute"`
}

// Estimate prices a period's totals. invalidationPaths is the month's
// count (the free allowance is monthly: pass a month's totals for a bill
// that matches the price page); storedMinutes is the media stored,
// in minutes, over the period.
func Estimate(t Totals, invalidationPaths int64, storedMinutes float64, p Prices) Bill {
	b := Bill{Currency: p.Currency, PayAsYouGo: Plan{Name: "pay-as-you-go"}, PerMinute: Plan{Name: "per-minute"}}
	gb := float64(t.BytesOut) / GB
	lower := 0.0
	for i, tier := range p.Transfer {
		if gb <= lower {
			break
		}
		upper := tier.UpToGB
		if upper == 0 || i == len(p.Transfer)-1 {
			upper = math.Inf(1)
		}
		q := min(gb, upper) - lower
		b.PayAsYouGo.add(LineItem{Name: tierName(lower, upper), Quantity: q, Unit: "GB", UnitPrice: tier.PerGB})
		lower = upper
	}
	b.PayAsYouGo.add(LineItem{Name: "requests", Quantity: float64(t.Requests) / 10_000, Unit: "10,000 requests", UnitPrice: p.Per10kRequests})
	if paid := invalidationPaths - p.FreeInvalidationPaths; paid > 0 {
		b.PayAsYouGo.add(LineItem{Name: "invalidation paths beyond the free ones", Quantity: float64(paid), Unit: "path", UnitPrice: p.PerInvalidationPath})
	}
	b.PerMinute.add(LineItem{Name: "minutes stored", Quantity: storedMinutes / 1000, Unit: "1,000 minutes", UnitPrice: p.Per1kMinutesStored})
	b.PerMinute.add(LineItem{Name: "minutes delivered", Quantity: t.DeliveredSeconds / 60 / 1000, Unit: "1,000 minutes", UnitPrice: p.Per1kMinutesDelivered})
	return b
}

func (p *Plan) add(li LineItem) {
	li.Amount = li.Quantity * li.UnitPrice
	p.Items = append(p.Items, li)
	p.Total += li.Amount
}

func tierName(lowerGB, upperGB float64) string {
	if math.IsInf(upperGB, 1) {
		return "data out over " + volume(lowerGB)
	}
	return "data out " + volume(lowerGB) + " to " + volume(upperGB)
}

func volume(gb float64) string {
	switch {
	case gb == 0:
		return "0"
	case gb >= 1024*1024 && math.Mod(gb, 1024*1024) == 0:
		return ftoa(gb/(1024*1024)) + " PB"
	case gb >= 1024 && math.Mod(gb, 1024) == 0:
		return ftoa(gb/1024) + " TB"
	default:
		return ftoa(gb) + " GB"
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
