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

// cpuBusy is the CPU time the given CPUs (all of them when cpus is nil)
// spent not idle since boot, from /proc/stat.
func cpuBusy(cpus []int) time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	want := map[string]bool{}
	for _, c := range cpus {
		want["cpu"+strconv.Itoa(c)] = true
	}
	var ticks uint64
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		// cpuN user nice system idle iowait irq softirq steal guest guest_nice
		if len(f) < 9 || !(cpus == nil && f[0] == "cpu" || want[f[0]]) {
			continue
		}
		for i, v := range f[1:9] {
			if i == 3 || i == 4 { // idle, iowait
				continue
			}
			n, _ := strconv.ParseUint(v, 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// parseCPUList reads a taskset list such as "0", "0,2" or "0-3"; an empty
// list is nil (every CPU).
func parseCPUList(list string) []int {
	var out []int
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil || b < a {
				continue
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out
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
