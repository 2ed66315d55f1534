package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is an external server the bench started. It runs in its own
// process group, so stop reaches every process it forks (nginx workers,
// the Varnish child), and its output goes to a log file in the run's
// temporary directory, quoted in errors.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error
}

// placement says where and at what priority a process under load runs.
// The zero value is unpinned at the default priority.
type placement struct {
	cpus string // taskset CPU list; empty: every CPU
	nice int    // nice value; 0: unchanged
}

// wrap prefixes argv with nice and taskset as needed; both exec the
// program, so the pid stays the program's.
func (pl placement) wrap(argv []string) []string {
	if pl.cpus != "" {
		argv = append([]string{"taskset", "-c", pl.cpus}, argv...)
	}
	if pl.nice != 0 {
		argv = append([]string{"nice", "-n", strconv.Itoa(pl.nice)}, argv...)
	}
	return argv
}

// startProcess runs argv as name, placed as pl says.
func startProcess(name, dir string, pl placement, env []string, argv ...string) (*process, error) {
	argv = pl.wrap(argv)
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer logf.Close() // the child keeps its own descriptor
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Setpgid: one signal to -pid stops the whole group. Pdeathsig: if the
	// bench itself is killed, the server does not outlive it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, argv[0], err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// pid is the process (and process group) id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// stop sends SIGTERM to the group, then SIGKILL after five seconds.
func (p *process) stop() {
	if p == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
		<-p.done
	}
	// Children that ignored the group's SIGTERM and outlived the leader.
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
}

// logTail is the end of the process's output, for error messages.
func (p *process) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	b = bytes.TrimSpace(b)
	if len(b) > 1500 {
		b = append([]byte("…"), b[len(b)-1500:]...)
	}
	return string(b)
}

// failed wraps err with the process's name and the end of its output.
func (p *process) failed(err error) error {
	if tail := p.logTail(); tail != "" {
		return fmt.Errorf("%s: %w (its output: %s)", p.name, err, tail)
	}
	return fmt.Errorf("%s: %w", p.name, err)
}

// waitHTTP polls url until any HTTP answer (or ok(status) when given),
// the process exits, or 20 s pass.
func (p *process) waitHTTP(ctx context.Context, url string, ok func(int) bool) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var last error // what the latest try got: an error or an unwanted status
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if ok == nil || ok(resp.StatusCode) {
				return nil
			}
			last = fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
		} else {
			last = err
		}
		select {
		case <-p.done:
			return p.failed(fmt.Errorf("exited before answering on %s: %v", url, p.err))
		case <-ctx.Done():
			return p.failed(fmt.Errorf("did not answer on %s: %v", url, last))
		case <-tick.C:
		}
	}
}

// groupMembers lists the pids whose process group is pgid.
func groupMembers(pgid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err == nil && st.pgrp == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procStat holds the fields of /proc/<pid>/stat the bench uses.
type procStat struct {
	ppid, pgrp     int
	utime, stime   uint64 // clock ticks
	cutime, cstime uint64 // of children it has waited for, clock ticks
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// The command name may hold spaces and parentheses: fields start after
	// the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, pgrp 5, utime 14, stime
	// 15, cutime 16, cstime 17.
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	var st procStat
	st.ppid, _ = strconv.Atoi(f[1])
	st.pgrp, _ = strconv.Atoi(f[2])
	st.cutime, _ = strconv.ParseUint(f[13], 10, 64)
	st.cstime, _ = strconv.ParseUint(f[14], 10, 64)
	st.utime, _ = strconv.ParseUint(f[11], 10, 64)
	st.stime, _ = strconv.ParseUint(f[12], 10, 64)
	return st, nil
}

// statusBytes reads a "Vm…:  123 kB" line of /proc/<pid>/status, in bytes.
func statusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/status %s: %w", pid, field, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}

// groupRSS is the summed resident set size of a process group.
func groupRSS(pgid int) int64 {
	var sum int64
	for _, pid := range groupMembers(pgid) {
		if n, err := statusBytes(pid, "VmRSS"); err == nil {
			sum += n
		}
	}
	return sum
}

// clockTicks is USER_HZ, 100 on every Linux the bench targets.
const clockTicks = 100

// groupCPU is the CPU time used so far by a process group's live members.
func groupCPU(pgid int) time.Duration {
	user, kernel := groupCPUSplit(pgid)
	return user + kernel
}

// groupCPUSplit is groupCPU in user and kernel time: on loopback the
// kernel's share is work no server can avoid (copying and TCP on both
// ends), so it bounds how far any server can beat another.
func groupCPUSplit(pgid int) (user, kernel time.Duration) {
	var u, k uint64
	for _, pid := range groupMembers(pgid) {
		if st, err := readStat(pid); err == nil {
			u += st.utime
			k += st.stime
		}
	}
	return time.Duration(u) * time.Second / clockTicks, time.Duration(k) * time.Second / clockTicks
}

// resetPeakRSS makes VmHWM start again from the current RSS (Linux
// clear_refs, value 5).
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
