package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/streamfront/streamfront/packager"
	"github.com/streamfront/streamfront/packager/index"
	"github.com/streamfront/streamfront/packager/thumbs"
	"github.com/streamfront/streamfront/packager/transcode"
)

// ladderPlan is the ffmpeg run our origin makes for the ladder of a
// remuxable H.264 source, worked out here for a local file so the same
// command can be run by hand beside it.
type ladderPlan struct {
	src   *transcode.Source
	peak  int64 // the source index's peak video bit rate, bits/s
	rungs []transcode.Rung
	outs  []transcode.Output
	opt   transcode.LadderOptions
	args  []string // ffmpeg's arguments, without the program name
}

// planLadder works out, as origin/job_package.go's encodeLadder does and
// with the same transcode.ChooseLadder and KeyframeTimes, the ffmpeg
// arguments that encode ladder below the source at path into dir.
func planLadder(ctx context.Context, path, dir string, ladder []transcode.Rung) (*ladderPlan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// The origin's default segment target (6 s), as it indexes the source.
	a, err := packager.Analyze(ctx, f, fi.Size(), packager.Options{})
	if err != nil {
		return nil, fmt.Errorf("analyze %s: %w", path, err)
	}
	if !a.Remux() {
		return nil, fmt.Errorf("%s is not served as it is (%s): the ladder plan covers remuxed sources only", path, strings.Join(a.Transcode, "; "))
	}
	ix := a.Index
	vt := ix.Track(index.Video)
	if vt == nil {
		return nil, errors.New(path + " has no video track")
	}
	if strings.HasPrefix(vt.Codec, "hvc1") || strings.HasPrefix(vt.Codec, "hev1") {
		return nil, errors.New(path + " is HEVC: the plan covers H.264 sources (served as they are) only")
	}
	src, err := transcode.Config{}.Probe(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("ffprobe %s: %w", path, err)
	}
	p := &ladderPlan{src: src}
	p.peak, _ = vt.Bitrates()
	p.rungs = transcode.ChooseLadder(ladder, src.ShortSide(), p.peak, true) // the source served as it is on top
	for _, r := range p.rungs {
		p.outs = append(p.outs, transcode.Output{Path: filepath.Join(dir, r.Name+".mp4"), Rung: r})
	}
	w, h := src.Video.DisplaySize()
	p.opt.Thumbs = &transcode.Thumbs{
		Plan:          thumbs.Plan(src.Duration, w, h),
		PosterPath:    filepath.Join(dir, "poster.jpg"),
		SpritePattern: filepath.Join(dir, "sprite-%d.jpg"),
	}
	p.opt.KeyframeTimes = transcode.KeyframeTimes(ix.Boundaries(), ix.Duration(), ix.VideoStart())
	if len(p.outs) == 0 {
		// The origin then runs transcode.Config.Thumbnails (keyframes
		// only), not EncodeLadder: nothing here to compare.
		return p, fmt.Errorf("the ladder leaves no rung below %s (%dp, peak %s): the origin makes thumbnails only", filepath.Base(path), src.ShortSide(), fmtBitrate(p.peak))
	}
	p.args = transcode.LadderArgs(path, src, p.outs, p.opt)
	return p, nil
}

// compareArgs says how the argv an origin ran (program name first) differs
// from the planned arguments, once the input (a presigned URL there, a
// local path here) and each side's scratch directory are set aside;
// "" when they are the same.
func compareArgs(ran []string, planned []string, plannedDir string) string {
	if len(ran) == 0 {
		return "the origin's ffmpeg command line was not seen"
	}
	ran = normalizeArgs(ran[1:], "")
	planned = normalizeArgs(planned, plannedDir)
	if slices.Equal(ran, planned) {
		return ""
	}
	for i := range min(len(ran), len(planned)) {
		if ran[i] != planned[i] {
			return fmt.Sprintf("argument %d: the origin ran %.120q, the plan has %.120q", i, ran[i], planned[i])
		}
	}
	return fmt.Sprintf("the origin ran %d arguments, the plan has %d", len(ran), len(planned))
}

// normalizeArgs replaces the input after -i with INPUT and the scratch
// directory (dir, or when empty the one holding poster.jpg) with DIR.
func normalizeArgs(args []string, dir string) []string {
	if dir == "" {
		for _, a := range args {
			if strings.HasSuffix(a, "/poster.jpg") {
				dir = filepath.Dir(a)
			}
		}
	}
	out := slices.Clone(args)
	for i, a := range out {
		if i > 0 && out[i-1] == "-i" {
			out[i] = "INPUT"
		} else if dir != "" && strings.HasPrefix(a, dir+"/") {
			out[i] = "DIR" + strings.TrimPrefix(a, dir)
		}
	}
	return out
}

// fmtBitrate is e.g. "1.43 Mbit/s".
func fmtBitrate(bps int64) string {
	if bps >= 1_000_000 {
		return fmt.Sprintf("%.2f Mbit/s", float64(bps)/1e6)
	}
	return fmt.Sprintf("%d kbit/s", bps/1000)
}
