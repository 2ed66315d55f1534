package bench

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// The machine may be shared (other builds and tests running): the bench
// records how busy it was, so a reader can tell a real difference from a
// neighbour's burst.

// systemBusy is the CPU time all CPUs spent not idle since boot, from the
// first line of /proc/stat.
func systemBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	// cpu user nice system idle iowait irq softirq steal guest guest_nice
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var ticks uint64
	for i, v := range f[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// loadSummary is the load average and CPU pressure right now, e.g.
// "load 3.1 / 2.0 / 1.2, CPU pressure 45% (avg10)".
func loadSummary() string {
	out := "load average unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			out = "load average " + f[0] + " / " + f[1] + " / " + f[2]
		}
	}
	if b, err := os.ReadFile("/proc/pressure/cpu"); err == nil {
		// some avg10=78.86 avg60=63.94 avg300=44.00 total=…
		for _, field := range strings.Fields(string(b)) {
			if v, ok := strings.CutPrefix(field, "avg60="); ok {
				out += ", CPU pressure " + v + "% (PSI some, avg60)"
				break
			}
		}
	}
	return out
}
