package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// fixtures are the media files the bench uploads, made once with ffmpeg
// and reused by later runs (bench/out is git-ignored).
type fixtures struct {
	Video        string // 1080p H.264 High with B-frames + AAC, moov at the end
	VideoSeconds int
	Clip         string // the first ClipSeconds of Video, same codecs, moov at the end
	ClipSeconds  int
	Made         time.Duration // time spent making missing files in this run
}

// ensureFixtures makes the fixtures that are not in dir yet.
func ensureFixtures(ctx context.Context, dir string, cfg Config) (fixtures, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fixtures{}, fmt.Errorf("fixtures: %w", err)
	}
	fx := fixtures{
		Video:        filepath.Join(dir, fmt.Sprintf("h264-high-1080p-%ds-%dk.mp4", cfg.FixtureSeconds, cfg.VideoKbps)),
		VideoSeconds: cfg.FixtureSeconds,
		ClipSeconds:  cfg.ClipSeconds,
	}
	fx.Clip = strings.TrimSuffix(fx.Video, ".mp4") + fmt.Sprintf("-clip%ds.mp4", cfg.ClipSeconds)
	start := time.Now()
	kbps := strconv.Itoa(cfg.VideoKbps)
	// testsrc2 moves every frame, so the encoder spends the whole bit rate;
	// a 2 s GOP without scene-cut keyframes lets the origin cut 6 s
	// segments of about VideoKbps*6/8 bytes each. ultrafast keeps the
	// encode short; bframes, CABAC and 8x8dct put back what makes it High
	// profile with B-frames. No +faststart: the moov stays at the end.
	err := makeOnce(ctx, fx.Video, func(tmp string) []string {
		return []string{"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
			"-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30",
			"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
			"-t", strconv.Itoa(cfg.FixtureSeconds),
			"-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "high", "-bf", "2",
			"-x264-params", "cabac=1:8x8dct=1", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
			"-b:v", kbps + "k", "-maxrate", kbps + "k", "-bufsize", strconv.Itoa(2*cfg.VideoKbps) + "k",
			"-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-f", "mp4", tmp}
	})
	if err != nil {
		return fx, fmt.Errorf("make the %d s fixture: %w", cfg.FixtureSeconds, err)
	}
	err = makeOnce(ctx, fx.Clip, func(tmp string) []string {
		return []string{"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
			"-i", fx.Video, "-t", strconv.Itoa(cfg.ClipSeconds), "-c", "copy", "-f", "mp4", tmp}
	})
	if err != nil {
		return fx, fmt.Errorf("cut the %d s clip: %w", cfg.ClipSeconds, err)
	}
	for _, p := range []string{fx.Video, fx.Clip} {
		if err := checkMoovAtEnd(p); err != nil {
			return fx, fmt.Errorf("fixture %s: %w", p, err)
		}
	}
	fx.Made = time.Since(start)
	return fx, nil
}

// makeOnce runs the command argv(tmp) unless path exists, then renames tmp
// to path, so an interrupted run never leaves a half-written fixture.
func makeOnce(ctx context.Context, path string, argv func(tmp string) []string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	tmp := path + ".partial"
	defer os.Remove(tmp)
	a := argv(tmp)
	out, err := exec.CommandContext(ctx, a[0], a[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(a, " "), err, strings.TrimSpace(string(out)))
	}
	return os.Rename(tmp, path)
}

// checkMoovAtEnd reads the top-level box headers and checks that the moov
// comes after the mdat: the case where an uploader cannot start before
// the whole file is there.
func checkMoovAtEnd(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var order []string
	var off int64
	hdr := make([]byte, 16)
	for {
		if _, err := f.ReadAt(hdr[:8], off); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		size := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		if size == 1 {
			if _, err := f.ReadAt(hdr[8:16], off+8); err != nil {
				return err
			}
			size = int64(binary.BigEndian.Uint64(hdr[8:16]))
		}
		if size < 8 {
			return fmt.Errorf("box %q at %d has size %d", typ, off, size)
		}
		order = append(order, typ)
		off += size
	}
	mdat, moov := -1, -1
	for i, t := range order {
		switch t {
		case "mdat":
			mdat = i
		case "moov":
			moov = i
		}
	}
	if mdat < 0 || moov < 0 || moov < mdat {
		return errors.New("expected the moov after the mdat, found boxes " + strings.Join(order, ","))
	}
	return nil
}

// bigSource is a long H.264 + AAC MP4, moov at the end, made by
// concatenating copies of the fixture without re-encoding.
type bigSource struct {
	Path    string
	Copies  int
	Seconds int
	Size    int64
	Made    time.Duration // time spent making it in this run; 0 when reused
}

// ensureBigSource makes (once; it stays in dir for later runs) a file of
// about target bytes from copies of video, a seconds-long fixture, with
// ffmpeg's concat demuxer and -c copy: cheap, and the moov stays at the end.
func ensureBigSource(ctx context.Context, dir, video string, seconds int, target int64) (bigSource, error) {
	fi, err := os.Stat(video)
	if err != nil {
		return bigSource{}, err
	}
	copies := max(1, int((target+fi.Size()/2)/fi.Size()))
	bs := bigSource{
		Path:    filepath.Join(dir, strings.TrimSuffix(filepath.Base(video), ".mp4")+fmt.Sprintf("-x%d.mp4", copies)),
		Copies:  copies,
		Seconds: copies * seconds,
	}
	start := time.Now()
	if _, err := os.Stat(bs.Path); err != nil {
		list := bs.Path + ".concat.txt"
		var b strings.Builder
		for range copies {
			// The concat demuxer's quoting: a single-quoted path, ' escaped.
			fmt.Fprintf(&b, "file '%s'\n", strings.ReplaceAll(video, "'", `'\''`))
		}
		if err := os.WriteFile(list, []byte(b.String()), 0o644); err != nil {
			return bs, err
		}
		defer os.Remove(list)
		err = makeOnce(ctx, bs.Path, func(tmp string) []string {
			return []string{"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
				"-f", "concat", "-safe", "0", "-i", list, "-c", "copy", "-f", "mp4", tmp}
		})
		if err != nil {
			return bs, fmt.Errorf("concatenate %d copies of %s: %w", copies, filepath.Base(video), err)
		}
		bs.Made = time.Since(start)
	}
	if err := checkMoovAtEnd(bs.Path); err != nil {
		return bs, fmt.Errorf("big source %s: %w", bs.Path, err)
	}
	if fi, err = os.Stat(bs.Path); err != nil {
		return bs, err
	}
	bs.Size = fi.Size()
	return bs, nil
}

// boxSize is the size of the first top-level box of type typ in the file
// at path; 0 when there is none.
func boxSize(path, typ string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var off int64
	hdr := make([]byte, 16)
	for {
		if _, err := f.ReadAt(hdr[:8], off); err == io.EOF {
			return 0, nil
		} else if err != nil {
			return 0, err
		}
		size := int64(binary.BigEndian.Uint32(hdr[:4]))
		if size == 1 {
			if _, err := f.ReadAt(hdr[8:16], off+8); err != nil {
				return 0, err
			}
			size = int64(binary.BigEndian.Uint64(hdr[8:16]))
		}
		if size < 8 {
			return 0, fmt.Errorf("box %q at %d has size %d", hdr[4:8], off, size)
		}
		if string(hdr[4:8]) == typ {
			return size, nil
		}
		off += size
	}
}
