package origin

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/streamfront/streamfront/origin/catalog"
)

// A recording plays as it was recorded from the broadcast's end
// (content_recorded.go); its package job then gives it a source like an
// upload's: the recorded segments joined into one MP4 (ffmpeg, stream
// copy, faststart), stored at its source key. From there the job goes on
// as for any upload (makePlayable): remuxed as rendition "src", which the
// master offers instead of the recording from then on, then the ladder,
// the poster and the storyboard.

// storeRecordingSource joins the recording of v into its source (on disk,
// in the work directory: memory stays bounded by the copy buffers and one
// entry per segment).
func (s *core) storeRecordingSource(ctx context.Context, v *catalog.Video, progress progressFunc) (*catalog.Video, error) {
	progress(ctx, "joining the recording", 1)
	tracks, err := s.listRecording(ctx, v.ID)
	if err != nil {
		return nil, err
	}
	if len(tracks) == 0 {
		return nil, fmt.Errorf("%w: no recorded segment of video %s is stored", errRecordingGone, v.ID)
	}
	dir, err := os.MkdirTemp(s.opt.WorkDir, "live-recording-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	// One MP4 per generation (a new generation is an encoder that came
	// back with other codec parameters), then those joined.
	byGen := map[int][]string{}
	var gens []int
	for _, t := range tracks {
		var keys []sizedKey
		gen := -1
		flush := func() error {
			if gen < 0 || len(keys) == 0 {
				return nil
			}
			file := filepath.Join(dir, fmt.Sprintf("g%03d-%s.mp4", gen, t.name))
			if err := s.download(ctx, file, keys); err != nil {
				return err
			}
			if _, ok := byGen[gen]; !ok {
				gens = append(gens, gen)
			}
			byGen[gen] = append(byGen[gen], file)
			return nil
		}
		for _, seg := range t.segments {
			if seg.generation != gen {
				if err := flush(); err != nil {
					return nil, err
				}
				gen, keys = seg.generation, nil
				if !t.inits[gen] {
					gen = -1 // no init segment: its segments cannot be read
					continue
				}
				keys = append(keys, sizedKey{key: recordedKey(v.ID, t.name, recordedInitName(gen)), size: -1})
			}
			if gen >= 0 {
				keys = append(keys, sizedKey{key: recordedKey(v.ID, t.name, seg.name()), size: seg.size})
			}
		}
		if err := flush(); err != nil {
			return nil, err
		}
	}
	if len(gens) == 0 {
		return nil, fmt.Errorf("%w whole", errRecordingGone)
	}
	progress(ctx, "joining the recording", 20)
	slices.Sort(gens)
	var parts []string
	for _, g := range gens {
		out := filepath.Join(dir, fmt.Sprintf("g%03d.mp4", g))
		args := []string{}
		for _, in := range byGen[g] {
			args = append(args, "-i", in)
		}
		for i := range byGen[g] {
			args = append(args, "-map", strconv.Itoa(i))
		}
		args = append(args, "-c", "copy", "-movflags", "+faststart", out)
		if err := s.ffmpeg(ctx, args...); err != nil {
			return nil, err
		}
		parts = append(parts, out)
	}
	final := parts[0]
	if len(parts) > 1 {
		list := filepath.Join(dir, "parts.txt")
		var b strings.Builder
		for _, p := range parts {
			fmt.Fprintf(&b, "file '%s'\n", p)
		}
		if err := os.WriteFile(list, []byte(b.String()), 0o600); err != nil {
			return nil, err
		}
		final = filepath.Join(dir, "recording.mp4")
		if err := s.ffmpeg(ctx, "-f", "concat", "-safe", "0", "-i", list, "-c", "copy", "-movflags", "+faststart", final); err != nil {
			return nil, err
		}
	}
	progress(ctx, "joining the recording", 40)
	f, err := os.Open(final)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := s.store.Upload(ctx, v.Source.Key, f, "video/mp4")
	if err != nil {
		return nil, err
	}
	return s.catalog.Update(ctx, v.ID, func(v *catalog.Video) error {
		v.Source.Size = size
		return nil
	})
}

// sizedKey is an object to download and its size (-1: to be asked).
type sizedKey struct {
	key  string
	size int64
}

// download streams objects, one after the other, into file.
func (s *core) download(ctx context.Context, file string, keys []sizedKey) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.size < 0 {
			info, err := s.store.Head(ctx, k.key)
			if err != nil {
				f.Close()
				return err
			}
			k.size = info.Size
		}
		body, err := s.store.GetRange(ctx, k.key, 0, k.size)
		if err != nil {
			f.Close()
			return err
		}
		_, err = io.Copy(f, body)
		body.Close()
		if err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func (s *core) ffmpeg(ctx context.Context, args ...string) error {
	bin := s.opt.FFmpeg
	if bin == "" {
		bin = "ffmpeg"
	}
	ctx, cancel := context.WithTimeout(ctx, s.opt.TranscodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-nostdin", "-v", "error", "-y"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if len(msg) > 300 {
			msg = msg[:300]
		}
		return fmt.Errorf("ffmpeg: %w: %s", err, msg)
	}
	return nil
}
