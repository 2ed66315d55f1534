package bench

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// On this 2-core machine wrk gets one core and the server the other; for
// a 100 KiB answer wrk then runs out of CPU first (about 17,000 req/s)
// while each server idles part of the time, so both rates are wrk's and
// the CPU per answer includes each server's wake-ups from idle, which
// favour whichever server is busier. A cell with object.cpuShare gives
// every server the same share of one core through the kernel's CFS
// bandwidth control, below what wrk can take, so each server runs out of
// CPU first and its rate is its own.

// cpuCapPeriod is the CFS period, in µs: short, so a capped server waits
// at most a few milliseconds when its quota runs out.
const cpuCapPeriod = 10_000

// cpuCap is a cgroup whose processes share at most a fraction of a core.
type cpuCap struct {
	dir  string // the cgroup's directory
	root string // the hierarchy's mount point
	v2   bool
	from map[int]string // each held process's cgroup before, to go back to
}

// newCPUCap makes the cgroup, with cgroup v2's cpu.max when the unified
// hierarchy has the cpu controller, else v1's cpu controller. It needs
// root.
func newCPUCap(name string, share float64) (*cpuCap, error) {
	quota := strconv.Itoa(int(share * cpuCapPeriod))
	if b, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil && slices.Contains(strings.Fields(string(b)), "cpu") {
		root := "/sys/fs/cgroup"
		// The root's children get the cpu controller only when the root
		// hands it down.
		if err := os.WriteFile(filepath.Join(root, "cgroup.subtree_control"), []byte("+cpu"), 0); err != nil {
			return nil, fmt.Errorf("enable cgroup v2's cpu controller (needs root): %w", err)
		}
		c := &cpuCap{dir: filepath.Join(root, name), root: root, v2: true, from: map[int]string{}}
		if err := os.Mkdir(c.dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("make cgroup %s (needs root): %w", c.dir, err)
		}
		if err := os.WriteFile(filepath.Join(c.dir, "cpu.max"), []byte(quota+" "+strconv.Itoa(cpuCapPeriod)), 0); err != nil {
			c.remove()
			return nil, fmt.Errorf("set %s/cpu.max: %w", c.dir, err)
		}
		return c, nil
	}
	root := "/sys/fs/cgroup/cpu"
	if _, err := os.Stat(filepath.Join(root, "cpu.cfs_quota_us")); err != nil {
		return nil, errors.New("no cgroup cpu controller (neither cgroup v2 with cpu nor v1's /sys/fs/cgroup/cpu)")
	}
	c := &cpuCap{dir: filepath.Join(root, name), root: root, from: map[int]string{}}
	if err := os.Mkdir(c.dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("make cgroup %s (needs root): %w", c.dir, err)
	}
	for file, v := range map[string]string{"cpu.cfs_period_us": strconv.Itoa(cpuCapPeriod), "cpu.cfs_quota_us": quota} {
		if err := os.WriteFile(filepath.Join(c.dir, file), []byte(v), 0); err != nil {
			c.remove()
			return nil, fmt.Errorf("set %s/%s: %w", c.dir, file, err)
		}
	}
	return c, nil
}

// hold moves processes into the cgroup (with all their threads).
func (c *cpuCap) hold(pids []int) error {
	for _, pid := range pids {
		c.from[pid] = c.cgroupOf(pid)
		if err := os.WriteFile(filepath.Join(c.dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
			c.release(pids)
			return fmt.Errorf("move process %d into %s: %w", pid, c.dir, err)
		}
	}
	return nil
}

// release moves processes back to the cgroups they were in.
func (c *cpuCap) release(pids []int) {
	for _, pid := range pids {
		if dir, ok := c.from[pid]; ok {
			_ = os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0)
			delete(c.from, pid)
		}
	}
}

// cgroupOf is the directory of pid's cgroup in this hierarchy; the
// hierarchy's root when it cannot tell.
func (c *cpuCap) cgroupOf(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return c.root
	}
	if p, ok := cgroupPath(string(b), c.v2); ok {
		return filepath.Join(c.root, p)
	}
	return c.root
}

// cgroupPath finds the cpu hierarchy's path in the text of
// /proc/<pid>/cgroup: "0::/path" in v2, "N:cpu,cpuacct:/path" in v1.
func cgroupPath(procCgroup string, v2 bool) (string, bool) {
	for _, line := range strings.Split(procCgroup, "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if (v2 && f[0] == "0" && f[1] == "") || (!v2 && slices.Contains(strings.Split(f[1], ","), "cpu")) {
			return f[2], true
		}
	}
	return "", false
}

// remove deletes the cgroup; it must be empty.
func (c *cpuCap) remove() { _ = os.Remove(c.dir) }
