package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what the bench reads from one wrk report.
type wrkResult struct {
	Requests     int64         // "N requests in …"
	RequestsPerS float64       // "Requests/sec:"
	TransferPerS float64       // "Transfer/sec:", bytes per second
	P50, P99     time.Duration // the Latency Distribution lines
	SocketErrors int64         // connect + read + write + timeout
	Non2xx3xx    int64         // "Non-2xx or 3xx responses:"
	CPU          time.Duration // wrk's own user + system time
}

// wrkRun describes one load run.
type wrkRun struct {
	URL         string
	Threads     int
	Connections int
	Duration    time.Duration
	Placement   placement
	// Header lists request header lines ("Name: value") wrk sends (-H).
	Header []string
}

// runWrk runs `wrk -tT -cC -dD --latency [-H header]... URL` and parses
// its report.
func runWrk(ctx context.Context, run wrkRun) (wrkResult, error) {
	argv := []string{"wrk", "-t" + strconv.Itoa(run.Threads), "-c" + strconv.Itoa(run.Connections),
		"-d" + strconv.Itoa(int(run.Duration.Seconds())) + "s", "--timeout", "5s", "--latency"}
	for _, h := range run.Header {
		argv = append(argv, "-H", h)
	}
	argv = append(argv, run.URL)
	argv = run.Placement.wrap(argv)
	ctx, cancel := context.WithTimeout(ctx, run.Duration+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	res, err := parseWrk(string(out))
	if err != nil {
		return res, fmt.Errorf("%s: %w; its output was:\n%s", strings.Join(argv, " "), err, out)
	}
	res.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return res, nil
}

// parseWrk reads the report wrk prints with --latency.
func parseWrk(out string) (wrkResult, error) {
	var res wrkResult
	var seen struct{ rps, transfer, p99 bool }
	sc := bufio.NewScanner(strings.NewReader(out))
	inDistribution := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		switch {
		case line == "Latency Distribution":
			inDistribution = true
		case inDistribution && len(f) == 2 && strings.HasSuffix(f[0], "%"):
			d, err := parseWrkDuration(f[1])
			if err != nil {
				return res, fmt.Errorf("latency distribution line %q: %w", line, err)
			}
			switch f[0] {
			case "50%", "50.000%":
				res.P50 = d
			case "99%", "99.000%":
				res.P99, seen.p99 = d, true
			}
		case strings.HasPrefix(line, "Requests/sec:") && len(f) == 2:
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return res, fmt.Errorf("Requests/sec line %q: %w", line, err)
			}
			res.RequestsPerS, seen.rps = v, true
		case strings.HasPrefix(line, "Transfer/sec:") && len(f) == 2:
			v, err := parseWrkBytes(f[1])
			if err != nil {
				return res, fmt.Errorf("Transfer/sec line %q: %w", line, err)
			}
			res.TransferPerS, seen.transfer = v, true
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			inDistribution = false
			res.Requests, _ = strconv.ParseInt(f[0], 10, 64)
		case strings.HasPrefix(line, "Socket errors:"):
			// "Socket errors: connect 0, read 0, write 0, timeout 0"
			for i := 2; i+1 < len(f); i += 2 {
				n, _ := strconv.ParseInt(strings.TrimSuffix(f[i+1], ","), 10, 64)
				res.SocketErrors += n
			}
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:") && len(f) == 5:
			res.Non2xx3xx, _ = strconv.ParseInt(f[4], 10, 64)
		}
	}
	var missing []string
	if !seen.rps {
		missing = append(missing, "Requests/sec")
	}
	if !seen.transfer {
		missing = append(missing, "Transfer/sec")
	}
	if !seen.p99 {
		missing = append(missing, "the 99% latency line (was --latency given?)")
	}
	if len(missing) > 0 {
		return res, errors.New("wrk report lacks " + strings.Join(missing, ", "))
	}
	return res, nil
}

// parseWrkDuration reads wrk's time format: 635.91us, 1.20ms, 2.00s, 1.00m.
func parseWrkDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, err
			}
			return time.Duration(math.Round(v * float64(u.unit))), nil
		}
	}
	return 0, fmt.Errorf("unknown time unit in %q", s)
}

// parseWrkBytes reads wrk's binary byte format: 512.00B, 1.63KB, 2.01GB
// (wrk's K, M, G are powers of 1024).
func parseWrkBytes(s string) (float64, error) {
	mult := 1.0
	num, ok := strings.CutSuffix(s, "B")
	if !ok {
		return 0, fmt.Errorf("no B suffix in %q", s)
	}
	for i, p := range []string{"K", "M", "G", "T", "P"} {
		if n, ok := strings.CutSuffix(num, p); ok {
			num, mult = n, float64(uint64(1)<<(10*(i+1)))
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, err
	}
	return v * mult, nil
}
