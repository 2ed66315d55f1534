package bench

import (
	"fmt"
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

// treeCPU is the CPU time used so far by process root and everything
// below it: live processes' own time plus what each has collected from
// the children it waited for (cutime, cstime), so a program that ran and
// exited is still counted.
func treeCPU(root int) time.Duration {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	kids := map[int][]int{}
	stats := map[int]procStat{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil {
			stats[pid] = st
			kids[st.ppid] = append(kids[st.ppid], pid)
		}
	}
	var ticks uint64
	seen := map[int]bool{}
	todo := []int{root}
	for len(todo) > 0 {
		pid := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[pid] {
			continue
		}
		seen[pid] = true
		st := stats[pid]
		ticks += st.utime + st.stime + st.cutime + st.cstime
		todo = append(todo, kids[pid]...)
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// cpuMeter tells, over a stretch of time, how much CPU other work on the
// machine took: every CPU's busy time less what this program and every
// process it started (servers, ffmpeg) used. On a shared machine that is
// what a timed run lost to neighbours.
type cpuMeter struct {
	start      time.Time
	busy, ours time.Duration
}

func startCPUMeter() cpuMeter {
	return cpuMeter{start: time.Now(), busy: cpuBusy(nil), ours: treeCPU(os.Getpid())}
}

// read returns the CPU time used since start by our processes and by
// everything else.
func (m cpuMeter) read() (ours, others time.Duration) {
	ours = treeCPU(os.Getpid()) - m.ours
	others = max(0, cpuBusy(nil)-m.busy-ours)
	return ours, others
}

// cpuUse is what a cpuMeter read at the end of a timed run.
type cpuUse struct {
	wall, ours, others time.Duration
}

func (m cpuMeter) stop() cpuUse {
	ours, others := m.read()
	return cpuUse{wall: time.Since(m.start), ours: ours, others: others}
}

// disturbed reports whether other work took more than disturbedShare of a
// core on average: the run then waited for CPU it would have had.
func (u cpuUse) disturbed() bool {
	return u.wall > 0 && u.others.Seconds() > disturbedShare*u.wall.Seconds()
}

// String is e.g. "ours 1.93 cores, others 0.05 cores".
func (u cpuUse) String() string {
	if u.wall <= 0 {
		return "—"
	}
	return fmt.Sprintf("ours %.2f cores, others %.2f cores", u.ours.Seconds()/u.wall.Seconds(), u.others.Seconds()/u.wall.Seconds())
}
