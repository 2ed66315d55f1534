package origin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/streamfront/streamfront/origin/store"
)

// growingUploader follows the HLS that ffmpeg writes into dir during a
// first encode and copies it to S3: each segment once ffmpeg has listed
// it in its playlist (it lists a segment only after closing it), the init
// segment before the first, and the playlist after the segments it names,
// so a reader of the stored playlist never meets a missing segment.
type growingUploader struct {
	s    *core
	id   string
	dir  string
	sent map[string]bool
	// first is called once, after the first segment is stored (again
	// when resuming: it is idempotent).
	first     func(ctx context.Context) error
	announced bool
	// lastPlaylist is the playlist as last stored.
	lastPlaylist []byte
	// prior is what an earlier attempt of the same encode stored (a
	// worker that died mid-encode): its files are kept, not replaced, and
	// the playlist is stored again only once it lists more segments, so
	// the EVENT playlist players follow only ever grows (RFC 8216 6.2.1).
	prior         map[string]bool
	priorSegments int
}

// resume loads what an earlier attempt stored. The encode is
// deterministic (same source, settings and cuts: ffmpeg writes the same
// bytes), so its segments continue where the earlier ones stop; an init
// segment that differs means it is not, and the earlier files are
// replaced instead.
func (g *growingUploader) resume(ctx context.Context) error {
	playlist, _, err := g.s.store.Get(ctx, growingKey(g.id, "stream.m3u8"), maxGrowingObject)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	files, err := growingFiles(playlist)
	if err != nil {
		return err
	}
	g.prior = map[string]bool{}
	for _, f := range files {
		g.prior[f] = true
		if f != "init.mp4" {
			g.priorSegments++
		}
	}
	g.lastPlaylist = playlist
	return nil
}

// samePrior reports whether the stored copy of a file of an earlier
// attempt has the bytes ffmpeg wrote now (only the small init segment is
// compared).
func (g *growingUploader) samePrior(ctx context.Context, name string) (bool, error) {
	local, err := os.ReadFile(filepath.Join(g.dir, name))
	if err != nil {
		return false, err
	}
	stored, _, err := g.s.store.Get(ctx, growingKey(g.id, name), maxGrowingObject)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return bytes.Equal(local, stored), err
}

// growingPoll is how often ffmpeg's playlist is read (a local file).
const growingPoll = 200 * time.Millisecond

// follow copies until done is closed, then copies what ffmpeg wrote last
// (the playlist with its ENDLIST).
func (g *growingUploader) follow(ctx context.Context, done <-chan struct{}) error {
	t := time.NewTicker(growingPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			return g.sync(ctx)
		case <-t.C:
			if err := g.sync(ctx); err != nil {
				return err
			}
		}
	}
}

// sync stores what ffmpeg's playlist lists and was not stored yet.
func (g *growingUploader) sync(ctx context.Context) error {
	playlist, err := os.ReadFile(filepath.Join(g.dir, "stream.m3u8"))
	if os.IsNotExist(err) {
		return nil // ffmpeg has not finished a segment yet
	}
	if err != nil {
		return err
	}
	if bytes.Equal(playlist, g.lastPlaylist) {
		return nil
	}
	files, err := growingFiles(playlist)
	if err != nil {
		return err
	}
	segments := 0
	for _, f := range files {
		if f != "init.mp4" {
			segments++
		}
		if g.sent[f] {
			continue
		}
		if g.prior[f] {
			if f == "init.mp4" {
				same, err := g.samePrior(ctx, f)
				if err != nil {
					return err
				}
				if !same {
					g.s.log.Warn("growing HLS: this encode differs from the earlier attempt's; its files are replaced",
						slog.String("id", g.id))
					g.prior, g.priorSegments = nil, 0
				}
			}
			if g.prior[f] {
				g.sent[f] = true
				continue
			}
		}
		if err := g.upload(ctx, f); err != nil {
			return err
		}
		g.sent[f] = true
	}
	if segments <= g.priorSegments && !bytes.Contains(playlist, []byte("#EXT-X-ENDLIST")) {
		return nil // still behind what players were given already
	}
	if err := g.s.store.Put(ctx, growingKey(g.id, "stream.m3u8"), playlist, "application/vnd.apple.mpegurl"); err != nil {
		return err
	}
	g.lastPlaylist, g.priorSegments = playlist, 0
	if !g.announced && segments > 0 && g.first != nil {
		g.announced = true
		return g.first(ctx)
	}
	return nil
}

func (g *growingUploader) upload(ctx context.Context, name string) error {
	f, err := os.Open(filepath.Join(g.dir, name))
	if err != nil {
		return fmt.Errorf("growing HLS %s: %w", name, err)
	}
	defer f.Close()
	_, err = g.s.store.Upload(ctx, growingKey(g.id, name), f, "video/mp4")
	if err == nil {
		g.s.log.Debug("growing segment stored", slog.String("id", g.id), slog.String("file", name))
	}
	return err
}

// growingFiles lists the init segment and the segments a playlist names,
// in order; a name ffmpeg would not write is refused (it would become an
// S3 key).
func growingFiles(playlist []byte) ([]string, error) {
	var files []string
	sc := bufio.NewScanner(bytes.NewReader(playlist))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		name := ""
		switch {
		case strings.HasPrefix(line, "#EXT-X-MAP:"):
			_, after, ok := strings.Cut(line, `URI="`)
			if !ok {
				continue
			}
			name, _, _ = strings.Cut(after, `"`)
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		default:
			name = line
		}
		if !growingFile.MatchString(name) || name == "stream.m3u8" {
			return nil, fmt.Errorf("growing HLS: unexpected file %q in ffmpeg's playlist", name)
		}
		files = append(files, name)
	}
	return files, sc.Err()
}
