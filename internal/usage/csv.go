package usage

import (
	"encoding/csv"
	"io"
	"strconv"
	"time"
)

// WriteCSV writes an answer's rows as CSV with a header line: start,
// the group's column (video, edge or kind), bytes_out, requests,
// delivered_seconds, origin_bytes, hit_ratio.
func WriteCSV(w io.Writer, a Answer) error {
	cw := csv.NewWriter(w)
	group := string(a.GroupBy)
	if group == "" {
		group = string(ByVideo)
	}
	if err := cw.Write([]string{"start", group, "bytes_out", "requests", "delivered_seconds", "origin_bytes", "hit_ratio"}); err != nil {
		return err
	}
	for _, r := range a.Rows {
		key := r.Video + r.Edge + r.Kind // only the group's is set
		if err := cw.Write([]string{
			r.Start.UTC().Format(time.RFC3339), key,
			strconv.FormatInt(r.BytesOut, 10), strconv.FormatInt(r.Requests, 10),
			strconv.FormatFloat(r.DeliveredSeconds, 'f', -1, 64),
			strconv.FormatInt(r.OriginBytes, 10),
			strconv.FormatFloat(r.HitRatio, 'f', 4, 64),
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
