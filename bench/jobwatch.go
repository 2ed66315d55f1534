package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// jobWatch is one upload's packaging as seen from outside the origin
// process: when the API first said ready and complete, the stages it
// reported, the origin's memory, and the programs (ffprobe, ffmpeg) it ran.
type jobWatch struct {
	created  time.Time // the upload's 201
	ready    time.Time // first GET that said ready; zero if never seen
	complete time.Time // first GET that said ready with no stage; zero if never seen
	video    video     // as last seen
	stages   []stageSeen

	// rssAtCreated is the origin's VmRSS at the 201; peakToReady and
	// peakToComplete its peak since then (VmHWM after clear_refs at the
	// 201, or the highest VmRSS sample if higher).
	rssAtCreated                int64
	peakToReady, peakToComplete int64

	children []*childRun // in the order they started
	cpu      cpuUse      // from the 201 to the end of the watch
}

// stageSeen is a stage of the API's Video as first seen.
type stageSeen struct {
	status, stage string
	at            time.Time
}

// childRun is one program the origin ran, seen by sampling /proc.
type childRun struct {
	pid     int
	comm    string
	argv    []string
	first   time.Time // first sample that saw it
	last    time.Time // last sample that saw it
	gone    time.Time // first sample that no longer saw it; zero while it runs
	peakRSS int64     // its VmHWM, as last read
	cpu     time.Duration
}

// wall is the child's run time as sampled: from the first sample that saw
// it to the first that did not (each up to one sample period late).
func (c *childRun) wall() time.Duration {
	if c.gone.IsZero() {
		return c.last.Sub(c.first)
	}
	return c.gone.Sub(c.first)
}

// watchSample is how often the watcher reads /proc; the API is polled
// every fastPoll, or every slowPoll while an ffmpeg runs (nothing the
// watch times changes then, and fewer requests leave the CPU to ffmpeg).
const (
	watchSample = 50 * time.Millisecond
	fastPoll    = 20 * time.Millisecond
	slowPoll    = 250 * time.Millisecond
)

// watchJob follows video id on origin o from its upload's 201 (created)
// until it is ready (untilComplete false) or complete, or timeout passes;
// on a timeout it returns what it saw with an error. The origin's VmHWM is
// reset on entry, so call it right after the 201.
func watchJob(ctx context.Context, o *originProcess, id string, created time.Time, untilComplete bool, timeout time.Duration) (*jobWatch, error) {
	w := &jobWatch{created: created}
	pid := o.pid()
	meter := startCPUMeter()
	meter.start = created
	var err error
	if w.rssAtCreated, err = statusBytes(pid, "VmRSS"); err != nil {
		return w, err
	}
	if err := resetPeakRSS(pid); err != nil {
		return w, fmt.Errorf("reset the origin's VmHWM: %w", err)
	}
	s := &procSampler{pid: pid, groups: []int{pid}, peak: w.rssAtCreated}
	if o.worker != nil { // encodes (ffmpeg) run under the worker
		s.groups = append(s.groups, o.worker.pid())
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(watchSample)
		defer tick.Stop()
		for {
			s.sample()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
		w.children = s.children
		w.cpu = meter.stop()
	}()

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		v, err := getVideo(ctx, o.URL, id)
		now := time.Now()
		if err != nil {
			if ctx.Err() != nil {
				return w, fmt.Errorf("video %s not done after %s (status %s, stage %q)", id, timeout, w.video.Status, w.video.Stage)
			}
			return w, err
		}
		w.video = v
		if n := len(w.stages); n == 0 || w.stages[n-1].status != v.Status || w.stages[n-1].stage != v.Stage {
			w.stages = append(w.stages, stageSeen{status: v.Status, stage: v.Stage, at: now})
		}
		switch {
		case v.Status == "failed":
			return w, fmt.Errorf("video %s failed to package: %s", id, v.Error)
		case v.Status == "ready":
			if w.ready.IsZero() {
				w.ready, w.peakToReady = now, s.peakRSS()
			}
			if v.Stage == "" {
				w.complete, w.peakToComplete = now, s.peakRSS()
				return w, nil
			}
			if !untilComplete {
				return w, nil
			}
		}
		poll := fastPoll
		if s.ffmpegRunning() {
			poll = slowPoll
		}
		select {
		case <-ctx.Done():
			return w, fmt.Errorf("video %s not done after %s (status %s, stage %q)", id, timeout, w.video.Status, w.video.Stage)
		case <-time.After(poll):
		}
	}
}

// stageTime is when the watch first saw stage (with any status); zero if
// never.
func (w *jobWatch) stageTime(stage string) time.Time {
	for _, s := range w.stages {
		if s.stage == stage {
			return s.at
		}
	}
	return time.Time{}
}

// ffmpegRuns lists the ffmpeg processes the origin ran.
func (w *jobWatch) ffmpegRuns() []*childRun {
	var out []*childRun
	for _, c := range w.children {
		if c.comm == "ffmpeg" {
			out = append(out, c)
		}
	}
	return out
}

// procSampler reads an origin's memory and the child processes of the
// origin and its worker (process groups).
type procSampler struct {
	pid    int
	groups []int

	mu       sync.Mutex
	peak     int64 // highest VmRSS sampled
	children []*childRun
}

func (s *procSampler) sample() {
	rss, _ := statusBytes(s.pid, "VmRSS")
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peak = max(s.peak, rss)
	// While a known child runs, only it is read: a full /proc scan per
	// sample would take CPU from the ffmpeg being timed, and the origin
	// starts nothing else meanwhile.
	running := false
	for _, c := range s.children {
		if c.gone.IsZero() {
			running = true
			if !c.update(now) {
				c.gone = now
				running = false
			}
		}
	}
	if running {
		return
	}
	known := map[int]bool{}
	for _, c := range s.children {
		known[c.pid] = true
	}
	var members []int
	for _, g := range s.groups {
		members = append(members, groupMembers(g)...)
	}
	for _, pid := range members {
		if slices.Contains(s.groups, pid) || known[pid] {
			continue
		}
		c := &childRun{pid: pid, first: now}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil {
			continue
		}
		c.comm = strings.TrimSpace(string(comm))
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
			c.argv = strings.Split(string(bytes.TrimSuffix(b, []byte{0})), "\x00")
		}
		if c.update(now) {
			s.children = append(s.children, c)
		}
	}
}

// update reads the child's memory and CPU; false when it has exited.
func (c *childRun) update(now time.Time) bool {
	st, err := readStat(c.pid)
	if err != nil {
		return false
	}
	if hwm, err := statusBytes(c.pid, "VmHWM"); err == nil {
		c.peakRSS = max(c.peakRSS, hwm)
	} else {
		return false // a zombie has no memory left: it has exited
	}
	c.cpu = time.Duration(st.utime+st.stime) * time.Second / clockTicks
	c.last = now
	return true
}

// peakRSS is the origin's peak since the watch began.
func (s *procSampler) peakRSS() int64 {
	hwm, _ := statusBytes(s.pid, "VmHWM")
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(hwm, s.peak)
}

func (s *procSampler) ffmpegRunning() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.children {
		if c.comm == "ffmpeg" && c.gone.IsZero() {
			return true
		}
	}
	return false
}
