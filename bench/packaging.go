package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// measurePackaging compares the time our origin needs to make the
// fixture playable with ffmpeg's `-c copy` HLS packaging of the same file.
func (e *env) measurePackaging(ctx context.Context) *section {
	s := &section{title: fmt.Sprintf("Packaging a %d-minute 1080p H.264 (High, B-frames) + AAC MP4, moov at the end", e.fx.VideoSeconds/60)}
	fi, err := os.Stat(e.fx.Video)
	if err != nil {
		s.err = err
		return s
	}
	e.logf("uploading %s (%s) and waiting for ready and complete", filepath.Base(e.fx.Video), fmtBytes(fi.Size()))
	big, err := e.upload(ctx, e.fx.Video, "bench fixture")
	if err != nil {
		s.err = fmt.Errorf("upload and package the fixture: %w", err)
		return s
	}
	e.big = big

	e.logf("fetching every HLS segment once from the origin (JIT)")
	jit, segments, jitBytes, err := e.fetchAllSegments(ctx, big.video)
	if err != nil {
		s.err = fmt.Errorf("fetch the packaged segments from the origin: %w", err)
		return s
	}

	e.logf("running ffmpeg -c copy -f hls on the same file")
	ff, ffFiles, ffBytes, err := ffmpegHLS(ctx, e.fx.Video, filepath.Join(e.dir, "ffmpeg-hls"))
	if err != nil {
		s.err = fmt.Errorf("ffmpeg HLS packaging: %w", err)
		return s
	}

	t := newTable("measure", "Streamfront origin", "ffmpeg -c copy → HLS fMP4", "ours ÷ ffmpeg")
	t.add("upload: POST start → 201 ("+fmtBytes(fi.Size())+" over loopback into S3)", fmtDuration(big.uploadTime), "—", "—")
	t.add("**201 → ready** (probe, index; playable)", fmtDuration(big.readyTime), fmtDuration(ff), fmtRatio(big.readyTime.Seconds()/ff.Seconds()))
	t.add("201 → complete (then poster and storyboard: ffmpeg on keyframes, stored)", fmtDuration(big.completeTime), "—", "—")
	t.add("201 → ready, then every segment cut once", fmtDuration(big.readyTime+jit), fmtDuration(ff), fmtRatio((big.readyTime+jit).Seconds()/ff.Seconds()))
	t.add("output", fmt.Sprintf("%d media segments (video and audio) + init segments and playlists, %s, cut on request (not stored)", segments, fmtBytes(jitBytes)),
		fmt.Sprintf("%d files, %s written", ffFiles, fmtBytes(ffBytes)), "")
	s.tables = append(s.tables, t)

	s.note("Fixture: %s, %s, %d s, made once with ffmpeg (libx264 ultrafast + B-frames/CABAC/8x8dct, %d kbit/s, 2 s GOP; AAC 128 kbit/s) and reused.",
		filepath.Base(e.fx.Video), fmtBytes(fi.Size()), e.fx.VideoSeconds, e.cfg.VideoKbps)
	s.note("Ours: time from the upload's 201 to the first GET /api/v1/videos/{id} that says ready, polled every 20 ms (so up to 20 ms late); complete is the first that says ready with no stage. The video is %.0f s, %dx%d. This origin runs with no ladder (a deployment file with `ladder: []`) (the remux/index path only; the default ladder's encode has its own section), so no encode runs behind this or the later steps.",
		big.DurationS, big.Width, big.Height)
	s.note("ffmpeg: wall time of `ffmpeg -i in.mp4 -c copy -f hls -hls_segment_type fmp4 -hls_time 6 -hls_playlist_type vod out.m3u8`.")
	s.note("Not the same work: ffmpeg reads a local file (already in the page cache from the upload) and writes every segment to disk; our origin reads the source from S3 (versitygw) over loopback with ranged GETs, writes only an index, and cuts segments when first asked for. The third row adds the time to fetch every segment (%d at a time) from the origin, fetched once the video is complete (so the thumbnails pass does not compete), to 201 → ready, so both columns then cover producing all HLS bytes once. The origin's segment cutting now runs ranged reads up to 4 ahead of the copy, and media requests read the video record through a 1 s cache.", runtime.NumCPU())
	return s
}

// fetchAllSegments GETs every playlist and segment of v from the origin,
// NumCPU at a time, and returns how long that took, how many media
// segments there were, and their bytes.
func (e *env) fetchAllSegments(ctx context.Context, v video) (time.Duration, int, int64, error) {
	start := time.Now()
	master := "/videos/" + v.ID + "/master.m3u8"
	body, _, err := httpGet(ctx, e.origin.URL+master, nil)
	if err != nil {
		return 0, 0, 0, err
	}
	playlists, err := playlistURIs(master, body)
	if err != nil {
		return 0, 0, 0, err
	}
	var paths []string
	var total int64
	for _, p := range playlists {
		body, _, err := httpGet(ctx, e.origin.URL+p, nil)
		if err != nil {
			return 0, 0, 0, err
		}
		total += int64(len(body))
		uris, err := playlistURIs(p, body)
		if err != nil {
			return 0, 0, 0, err
		}
		paths = append(paths, uris...)
	}
	// The I-frame playlist names the video segments again, with byte
	// ranges: each object is fetched once.
	paths = unique(paths)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		next     = make(chan string)
	)
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range next {
				b, _, err := httpGet(ctx, e.origin.URL+p, nil)
				mu.Lock()
				total += int64(len(b))
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, p := range paths {
		next <- p
	}
	close(next)
	wg.Wait()
	media := 0
	for _, p := range paths {
		if strings.HasSuffix(p, ".m4s") {
			media++
		}
	}
	return time.Since(start), media, total, firstErr
}

// playlistURIs lists what a playlist refers to: URI lines and URI="…"
// attributes (EXT-X-MEDIA, EXT-X-MAP), resolved against its path.
func playlistURIs(playlistPath string, body []byte) ([]string, error) {
	var refs []string
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSpace(line)
		if i := strings.Index(line, `URI="`); strings.HasPrefix(line, "#") && i >= 0 {
			rest := line[i+len(`URI="`):]
			if j := strings.IndexByte(rest, '"'); j >= 0 {
				refs = append(refs, rest[:j])
			}
			continue
		}
		if line != "" && !strings.HasPrefix(line, "#") {
			refs = append(refs, line)
		}
	}
	return segmentPaths(playlistPath, []byte(strings.Join(refs, "\n")))
}

// ffmpegHLS runs the reference packaging into outDir and returns its wall
// time and what it wrote.
func ffmpegHLS(ctx context.Context, in, outDir string) (time.Duration, int, int64, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return 0, 0, 0, err
	}
	argv := []string{"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", in,
		"-c", "copy", "-f", "hls", "-hls_segment_type", "fmp4", "-hls_time", "6", "-hls_playlist_type", "vod", "out.m3u8"}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = outDir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	entries, err := os.ReadDir(outDir)
	if err != nil {
		return 0, 0, 0, err
	}
	var size int64
	for _, en := range entries {
		if fi, err := en.Info(); err == nil {
			size += fi.Size()
		}
	}
	return took, len(entries), size, nil
}

// unique drops repeated strings, keeping the first of each.
func unique(list []string) []string {
	seen := map[string]bool{}
	out := list[:0:0]
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
