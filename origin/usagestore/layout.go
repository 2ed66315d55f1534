package usagestore

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/streamfront/streamfront/internal/usage"
)

const (
	hourFormat = "2006-01-02T15"
	dayFormat  = "2006-01-02"
)

func rawPrefix(hour time.Time) string { return "usage/raw/" + hour.UTC().Format(hourFormat) + "/" }

// RawKey is where a report is stored.
func RawKey(r *usage.Report) string {
	return fmt.Sprintf("%s%s/%s-%08d.json", rawPrefix(r.Hour), r.Edge, r.Run, r.Seq)
}

func hourlyKey(hour time.Time) string {
	return "usage/hourly/" + hour.UTC().Format(hourFormat) + ".json"
}

func dailyKey(day time.Time) string { return "usage/daily/" + day.UTC().Format(dayFormat) + ".json" }

// rawID is what a raw key names: the report's edge, run and seq.
type rawID struct {
	edge, run string
	seq       uint64
}

// parseRawKey reads a key below rawPrefix(hour); ok is false for a key
// that is not a report's (it is then ignored).
func parseRawKey(prefix, key string) (rawID, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok {
		return rawID{}, false
	}
	edge, file, ok := strings.Cut(rest, "/")
	if !ok || !usage.ValidName(edge) {
		return rawID{}, false
	}
	file, ok = strings.CutSuffix(file, ".json")
	if !ok {
		return rawID{}, false
	}
	i := strings.LastIndexByte(file, '-')
	if i < 0 {
		return rawID{}, false
	}
	run := file[:i]
	seq, err := strconv.ParseUint(file[i+1:], 10, 64)
	if err != nil || seq == 0 || !usage.ValidName(run) {
		return rawID{}, false
	}
	return rawID{edge: edge, run: run, seq: seq}, true
}

func (id rawID) stream() string { return id.edge + "/" + id.run }
