package origin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/packager"
	"github.com/streamfront/streamfront/packager/fmp4"
	"github.com/streamfront/streamfront/packager/hls"
	"github.com/streamfront/streamfront/packager/index"
	"github.com/streamfront/streamfront/packager/thumbs"
	"github.com/streamfront/streamfront/packager/transcode"
)

func isInputError(err error) bool { return packager.IsInputError(err) }

func renditionKey(id, name, ext string) string { return catalog.VideoPrefix(id) + "r/" + name + ext }

func thumbKey(id, name string) string { return catalog.VideoPrefix(id) + "thumbs/" + name }

// srcName is the rendition that is the source served as it is.
const srcName = "src"

// makePlayable is an origin's job on a new upload: make it playable now,
// without encoding, and queue the encode.
//
//   - A remuxable source (H.264/HEVC + AAC in MP4/MOV) is indexed in place:
//     no media byte is copied (the progressive MP4 is the source behind a
//     new moov).
//   - Another container with such streams (MKV, WebM, fragmented MP4) is
//     stream-copied into an MP4 and indexed.
//
// Either is ready at once when browsers decode it (8-bit 4:2:0 H.264), and
// its ladder is queued behind other work; otherwise (HEVC, 10-bit) its
// first encode goes in the first line. Anything else is queued whole in
// the first line. Repeating the job (a redelivery) redoes nothing stored.
func (s *core) makePlayable(ctx context.Context, id string) error {
	v, err := s.catalog.Get(ctx, id)
	if err != nil {
		return err
	}
	if v.Status == catalog.Failed || (v.Status == catalog.Ready && v.Final) {
		return nil
	}
	if v.Rendition(srcName) != nil {
		_, err := s.queueEncode(ctx, v, taskLadder) // stored before a crash
		return err
	}
	if v.Queue != nil {
		return nil // already queued whole
	}
	progress := s.progressReporter(id, nil)
	if v.Recorded != nil && v.Source.Size == 0 {
		// A live recording, playing as it was recorded: its source is
		// made first (job_recording.go).
		if v, err = s.storeRecordingSource(ctx, v, progress); err != nil {
			return err
		}
	}
	info, err := s.store.Head(ctx, v.Source.Key)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	progress(ctx, "probing", 1)
	src := s.store.NewReaderAt(ctx, v.Source.Key, info.Size)
	a, err := packager.Analyze(ctx, src, info.Size, packager.Options{SegmentTarget: s.opt.SegmentTarget})
	if err != nil {
		return err
	}
	switch {
	case a.Remux():
		if v, err = s.storeSource(ctx, v, a, progress); err != nil {
			return err
		}
	case a.NotMP4 && len(a.Transcode) == 0:
		copied, err := s.copySource(ctx, v, progress)
		if err != nil {
			if ctx.Err() != nil || !errors.Is(err, errNotCopyable) && !isInputError(err) {
				return err // S3 trouble: the job is retried
			}
			s.log.Info("to be transcoded", slog.String("id", id), slog.String("why", err.Error()))
			_, err = s.queueEncode(ctx, v, taskTranscode)
			return err
		}
		v = copied
	default:
		s.log.Info("to be transcoded", slog.String("id", id), slog.Any("why", a.Transcode))
		_, err = s.queueEncode(ctx, v, taskTranscode)
		return err
	}
	// A source browsers cannot decode (HEVC) gets its first H.264 rendition
	// the way an encoded source does: playing while it encodes.
	task := taskLadder
	if v.Status != catalog.Ready {
		task = taskTranscode
	}
	_, err = s.queueEncode(ctx, v, task)
	return err
}

// encode is a worker's job: the whole ladder of a source that needs
// encoding, or the rungs below one that plays as it is.
func (s *core) encode(ctx context.Context, id, task string) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	v, err := s.catalog.Get(ctx, id)
	if err != nil {
		return err
	}
	if v.Status == catalog.Failed || (v.Status == catalog.Ready && v.Final) {
		return nil // done already (a redelivery after the work was stored)
	}
	if v, err = s.catalog.Update(ctx, id, func(v *catalog.Video) error {
		v.EncodeStarted = time.Now().UTC()
		return nil
	}); err != nil {
		return err
	}
	progress := s.progressReporter(id, cancel)
	switch task {
	case taskTranscode:
		err = s.transcodeFirst(ctx, v, progress)
	case taskLadder:
		// The ladder follows the source, or the first rendition encoded
		// from a source that could not be served as it is (encodeLadder).
		err = s.encodeLadder(ctx, v, progress)
	default:
		return fmt.Errorf("unknown encode task %q", task)
	}
	deleted := errors.Is(context.Cause(ctx), errDeleted)
	if deleted || errors.Is(err, catalog.ErrNotFound) {
		// The delete removed what it listed; what this job stored while
		// the delete ran (a growing segment, a playlist) may have landed
		// after its listing. The job's writers have stopped now: remove
		// the video's objects again if its record is really gone.
		bg := context.WithoutCancel(ctx)
		if _, gerr := s.catalog.Get(bg, id); errors.Is(gerr, catalog.ErrNotFound) {
			if derr := s.catalog.Delete(bg, id); derr != nil {
				s.log.Warn("remove what an encode stored after its video was deleted", slog.String("id", id), slog.Any("err", derr))
			}
			deleted = true
		}
	}
	if deleted {
		return errDeleted
	}
	return err
}

// errNotCopyable means a source's streams need an encode, not a copy.
var errNotCopyable = errors.New("the streams need re-encoding")

// copySource copies the source's streams, not re-encoded, into an MP4
// stored as rendition "src" and indexed; the video is then ready as a
// remuxed MP4 upload is, and the ladder is encoded from the source after.
func (s *core) copySource(ctx context.Context, v *catalog.Video, progress progressFunc) (*catalog.Video, error) {
	progress(ctx, "probing", 2)
	tc, input, src, dir, err := s.prepareEncode(ctx, v)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if !src.Copyable() {
		return nil, errNotCopyable
	}
	out := filepath.Join(dir, "src.mp4")
	if err := tc.CopyToMP4(ctx, input, src, out, func(p float64) { progress(ctx, "copying streams", 3+p*40) }); err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: ffmpeg could not copy them: %v", errNotCopyable, err)
	}
	f, err := os.Open(out)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	progress(ctx, "indexing", 45)
	ix, err := packager.IndexRendition(ctx, f, fi.Size(), nil, packager.Options{SegmentTarget: s.opt.SegmentTarget})
	if err != nil {
		// ffmpeg wrote something our reader does not take: encode instead.
		return nil, fmt.Errorf("%w: index the stream copy: %v", errNotCopyable, err)
	}
	key := renditionKey(v.ID, srcName, ".mp4")
	if _, err := s.store.Upload(ctx, key, f, "video/mp4"); err != nil {
		return nil, err
	}
	r, err := s.storeIndex(ctx, v.ID, srcName, ix, catalog.MP4{Key: key, Size: fi.Size(), ETag: fmt.Sprintf(`"%s-%s-%d"`, v.ID, srcName, fi.Size())})
	if err != nil {
		return nil, err
	}
	return s.markSource(ctx, v, r, ix)
}

// storeSource indexes the source as rendition "src"; an H.264 (or
// audio-only) source is ready from this moment.
func (s *core) storeSource(ctx context.Context, v *catalog.Video, a *packager.Analysis, progress progressFunc) (*catalog.Video, error) {
	progress(ctx, "indexing", 50)
	mp4 := catalog.MP4{
		BodyKey:    v.Source.Key,
		BodyOffset: a.Layout.BodyOffset,
		BodyLength: a.Layout.BodyLength,
		Size:       a.Layout.Size(),
		ETag:       fmt.Sprintf(`"%s-%s-%d"`, v.ID, srcName, a.Layout.Size()),
	}
	if len(a.Layout.Head) > 0 {
		mp4.HeadKey, mp4.HeadSize = renditionKey(v.ID, srcName, ".head"), int64(len(a.Layout.Head))
		if err := s.store.Put(ctx, mp4.HeadKey, a.Layout.Head, "video/mp4"); err != nil {
			return nil, err
		}
	}
	r, err := s.storeIndex(ctx, v.ID, srcName, a.Index, mp4)
	if err != nil {
		return nil, err
	}
	return s.markSource(ctx, v, r, a.Index)
}

// markSource records rendition "src"; an H.264 (or audio-only) source is
// ready from this moment.
func (s *core) markSource(ctx context.Context, v *catalog.Video, r catalog.Rendition, ix *index.Index) (*catalog.Video, error) {
	// Ready only when browsers decode it: HEVC, 10-bit or 4:2:2 H.264 wait
	// for the first encoded rendition (and are never offered to players).
	ready := hls.BrowserDecodable(r.Codecs)
	v, err := s.catalog.Update(ctx, v.ID, func(v *catalog.Video) error {
		v.Renditions = []catalog.Rendition{r}
		v.Audio = audioGroup(nil, ix, srcName)
		describe(v, ix)
		if ready {
			// Ready, with more renditions coming: the stage says so until the
			// last one is stored (queued first: queueEncode follows).
			v.Status, v.Stage, v.Percent = catalog.Ready, stageQueued, 0
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, v)
	return v, nil
}

// encodeLadder adds the lower renditions, the stereo audio a multichannel
// source needs, the poster and the storyboard, then marks the video final.
func (s *core) encodeLadder(ctx context.Context, v *catalog.Video, progress progressFunc) error {
	// The reference rendition sets the cuts: the source served as it is
	// when players get it, or else the first rendition encoded from it
	// (transcodeFirst), so every rung players switch between cuts alike.
	top, fromSource := v.Rendition(srcName), true
	if top == nil || !hls.BrowserDecodable(top.Codecs) {
		if enc := firstVideoRendition(v, srcName); enc != nil {
			top, fromSource = enc, false
		}
	}
	if top == nil {
		return fmt.Errorf("ladder job for %s without a rendition to follow", v.ID)
	}
	srcIx, err := s.indexes.get(ctx, top.IndexKey)
	if err != nil {
		return err
	}
	tc, input, src, dir, err := s.prepareEncode(ctx, v)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var rungs []transcode.Rung
	if vt := srcIx.Track(index.Video); vt != nil {
		peak, _ := vt.Bitrates()
		if !fromSource && src.Video != nil {
			peak = src.Video.Bitrate
		}
		// A source players are not offered needs a rung at its own size.
		rungs = transcode.ChooseLadder(s.opt.Ladder, src.ShortSide(), peak, fromSource && hls.BrowserDecodable(top.Codecs))
		rungs = slices.DeleteFunc(rungs, func(r transcode.Rung) bool { return v.Rendition(r.Name) != nil }) // made already
	}
	outs := outputsFor(dir, rungs)
	if at := srcIx.Track(index.Audio); at != nil && at.Channels > 2 && len(rungs) == 0 {
		// The multichannel source needs a stereo companion; with no rung to
		// carry it, encode it alone.
		outs = append(outs, transcode.Output{Path: filepath.Join(dir, "stereo.mp4"), Rung: transcode.Rung{Name: "stereo"}, AudioOnly: true})
	}
	for _, o := range src.ExtraAudioOutputs(dir) {
		if v.Rendition(o.Rung.Name) == nil { // the first encode made them already
			outs = append(outs, o)
		}
	}
	th := s.thumbsFor(dir, src)
	start := srcIx.VideoStart()
	keyframes := transcode.KeyframeTimes(srcIx.Boundaries(), srcIx.Duration(), start)
	progress(ctx, "encoding renditions", 0)
	if len(outs) > 0 {
		err = tc.EncodeLadder(ctx, input, src, outs, transcode.LadderOptions{KeyframeTimes: keyframes, Thumbs: th, Threads: s.opt.Threads},
			func(p float64) { progress(ctx, "encoding renditions", p*95) })
	} else if th != nil {
		err = tc.Thumbnails(ctx, input, src, *th)
	}
	if err != nil {
		return err
	}
	progress(ctx, "storing renditions", 96)
	added, err := s.storeOutputs(ctx, v.ID, outs, srcIx.Boundaries(), start)
	if err != nil {
		return err
	}
	thumbRec, err := s.storeThumbs(ctx, v.ID, th)
	if err != nil {
		return err
	}
	return s.finish(ctx, v, func(v *catalog.Video) {
		v.Renditions = mergeRenditions(v.Renditions, added)
		v.Audio = audioGroupFor(v.Audio, added)
		v.Thumbs = thumbRec
	})
}

// transcodeFirst encodes a source that cannot be served as it is into its
// first browser-playable rendition: the top rung only (keyframes every
// 2 s), with its audio, and at the same time as growing HLS, stored as it
// is made, so the video plays within seconds of the encode's start. The
// other rungs, the poster and the storyboard follow as a ladder job, cut
// where this rendition is. An audio-only source is complete here.
func (s *core) transcodeFirst(ctx context.Context, v *catalog.Video, progress progressFunc) error {
	progress(ctx, "probing", 2)
	tc, input, src, dir, err := s.prepareEncode(ctx, v)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var outs []transcode.Output
	if src.Video != nil {
		rungs := transcode.ChooseLadder(s.opt.Ladder, src.ShortSide(), src.Video.Bitrate, false)
		outs = outputsFor(dir, rungs[:1])
		outs[0].HLSDir = filepath.Join(dir, "hls")
		if err := os.Mkdir(outs[0].HLSDir, 0o755); err != nil {
			return err
		}
	} else {
		outs = []transcode.Output{{Path: filepath.Join(dir, "audio.mp4"), Rung: transcode.Rung{Name: "audio"}, AudioOnly: true}}
	}
	if src.Audio != nil && src.Audio.Channels > 2 {
		outs = append(outs, transcode.Output{Path: filepath.Join(dir, "surround.mp4"), Rung: transcode.Rung{Name: "surround"},
			AudioOnly: true, AudioChannels: min(src.Audio.Channels, 6)})
	}
	outs = append(outs, src.ExtraAudioOutputs(dir)...)

	// The growing HLS is stored while ffmpeg writes it; the video is ready
	// once its first segment is.
	// If storing it fails, the encode stops too: the job is retried whole.
	var follow errgroup.Group
	encoded := make(chan struct{})
	encodeCtx, stopEncode := context.WithCancel(ctx)
	defer stopEncode()
	if dir := outs[0].HLSDir; dir != "" {
		g := &growingUploader{s: s, id: v.ID, dir: dir, sent: map[string]bool{}, first: func(ctx context.Context) error {
			return s.markGrowing(ctx, v.ID, dir, src)
		}}
		if err := g.resume(ctx); err != nil {
			return err
		}
		follow.Go(func() error {
			err := g.follow(ctx, encoded)
			if err != nil {
				stopEncode()
			}
			return err
		})
	}
	err = tc.EncodeLadder(encodeCtx, input, src, outs, transcode.LadderOptions{Threads: s.opt.Threads},
		func(p float64) { progress(ctx, "transcoding", 3+p*90) })
	close(encoded)
	if ferr := follow.Wait(); ferr != nil && ctx.Err() == nil {
		err = fmt.Errorf("store the growing HLS: %w", ferr) // the cause, not ffmpeg's "stopped"
	}
	if err != nil {
		return err
	}
	progress(ctx, "storing renditions", 94)
	added, err := s.storeOutputs(ctx, v.ID, outs, nil, 0)
	if err != nil {
		return err
	}
	topIx, err := s.indexes.get(ctx, added[0].rendition.IndexKey)
	if err != nil {
		return err
	}
	complete := func(v *catalog.Video) {
		v.Renditions = mergeRenditions(v.Renditions, added) // beside the source, when it is served as it is
		v.Audio = audioGroupFor(v.Audio, added)
		describe(v, topIx)
	}
	if src.Video == nil {
		return s.finish(ctx, v, complete)
	}
	v, err = s.catalog.Update(ctx, v.ID, func(v *catalog.Video) error {
		complete(v)
		v.Status, v.Stage, v.Percent, v.Error = catalog.Ready, stageQueued, 0, ""
		return nil
	})
	if err != nil {
		return err
	}
	s.notify(ctx, v)
	_, err = s.queueEncode(ctx, v, taskLadder)
	return err
}

// markGrowing makes a video ready on its growing HLS, once its first
// segment is stored.
func (s *core) markGrowing(ctx context.Context, id, dir string, src *transcode.Source) error {
	f, err := os.Open(filepath.Join(dir, "init.mp4"))
	if err != nil {
		return err
	}
	d, err := fmp4.DescribeInit(f)
	f.Close()
	if err != nil {
		return err
	}
	g := &catalog.GrowingHLS{Codecs: d.Codecs, Width: d.Width, Height: d.Height, Bandwidth: src.Video.Bitrate}
	if g.Bandwidth <= 0 || g.Bandwidth > 20_000_000 {
		g.Bandwidth = 5_000_000 // a guess is enough for the one variant there is
	}
	v, err := s.catalog.Update(ctx, id, func(v *catalog.Video) error {
		v.Growing = g
		if v.Status == catalog.Processing {
			v.Status = catalog.Ready
			v.DurationS, v.Width, v.Height = src.Duration.Seconds(), d.Width, d.Height
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.log.Info("playing while encoding", slog.String("id", id))
	s.notify(ctx, v)
	return nil
}

// finish makes the last change of a job: the renditions and stills it
// made (complete), then the video is ready and final. With write-ahead on,
// every file is stored first, from the record as it is about to be.
func (s *core) finish(ctx context.Context, v *catalog.Video, complete func(*catalog.Video)) error {
	if s.opt.WriteAhead {
		final := *v
		complete(&final)
		if err := s.writeAhead(ctx, &final); err != nil {
			return err
		}
	}
	storage, err := s.measureStorage(ctx, v)
	if err != nil {
		// The count is for the operator's bill; the video is fine without it.
		s.log.Warn("storage not measured", slog.String("id", v.ID), slog.Any("err", err))
	}
	v, err = s.catalog.Update(ctx, v.ID, func(v *catalog.Video) error {
		complete(v)
		v.Storage = storage
		v.Final = true
		v.Status, v.Stage, v.Percent, v.Error = catalog.Ready, "", 100, ""
		return nil
	})
	if err != nil {
		return err
	}
	s.notify(ctx, v)
	return nil
}

// stored is a rendition written by storeOutputs, with its audio's channels.
type stored struct {
	rendition catalog.Rendition
	audioOnly bool
	channels  int
	language  string // ISO 639-2 of the audio, "" when unknown
}

// storeOutputs indexes each encoded file (cut at boundaries, or the first
// file planned near the target and the rest cut where it was), uploads it
// and its index.
func (s *core) storeOutputs(ctx context.Context, id string, outs []transcode.Output, boundaries []time.Duration, start time.Duration) ([]stored, error) {
	var added []stored
	for _, o := range outs {
		f, err := os.Open(o.Path)
		if err != nil {
			return nil, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		opt := packager.Options{SegmentTarget: s.opt.SegmentTarget}
		opt.Probe.VideoStart = start
		ix, err := packager.IndexRendition(ctx, f, fi.Size(), boundaries, opt)
		if err == nil && boundaries == nil && !o.AudioOnly {
			boundaries = ix.Boundaries() // the top rung sets the cuts for the rest
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("index our own %s encode: %w", o.Rung.Name, err)
		}
		key := renditionKey(id, o.Rung.Name, ".mp4")
		_, err = s.store.Upload(ctx, key, f, "video/mp4")
		f.Close()
		if err != nil {
			return nil, err
		}
		r, err := s.storeIndex(ctx, id, o.Rung.Name, ix, catalog.MP4{Key: key, Size: fi.Size(), ETag: fmt.Sprintf(`"%s-%s-%d"`, id, o.Rung.Name, fi.Size())})
		if err != nil {
			return nil, err
		}
		st := stored{rendition: r, audioOnly: o.AudioOnly}
		if at := ix.Track(index.Audio); at != nil {
			st.channels = int(at.Channels)
			if at.Language != "und" {
				st.language = at.Language
			}
		}
		added = append(added, st)
	}
	return added, nil
}

// storeIndex writes a rendition's index and describes the rendition.
func (s *core) storeIndex(ctx context.Context, id, name string, ix *index.Index, mp4 catalog.MP4) (catalog.Rendition, error) {
	r := catalog.Rendition{Name: name, IndexKey: renditionKey(id, name, ".idx"), MP4: mp4}
	if err := s.store.Put(ctx, r.IndexKey, ix.Encode(), "application/octet-stream"); err != nil {
		return r, err
	}
	var codecs []string
	for _, t := range ix.Tracks {
		peak, avg := t.Bitrates()
		r.Bandwidth += peak
		r.AverageBandwidth += avg
		codecs = append(codecs, t.Codec)
		if t.Kind == index.Video {
			r.Width, r.Height = int(t.Width), int(t.Height)
		}
	}
	r.Codecs = strings.Join(codecs, ",")
	return r, nil
}

// storeThumbs uploads the poster, sprites and storyboard map.
func (s *core) storeThumbs(ctx context.Context, id string, th *transcode.Thumbs) (*catalog.Thumbs, error) {
	if th == nil {
		return nil, nil
	}
	rec := &catalog.Thumbs{PosterKey: thumbKey(id, "poster.jpg"), StoryboardKey: thumbKey(id, "storyboard.vtt")}
	if err := s.uploadFile(ctx, th.PosterPath, rec.PosterKey, "image/jpeg"); err != nil {
		return nil, err
	}
	sheets := 0
	for n := 0; ; n++ {
		path := fmt.Sprintf(th.SpritePattern, n)
		if _, err := os.Stat(path); err != nil {
			break
		}
		key := thumbKey(id, fmt.Sprintf("sprite-%d.jpg", n))
		if err := s.uploadFile(ctx, path, key, "image/jpeg"); err != nil {
			return nil, err
		}
		rec.SpriteKeys = append(rec.SpriteKeys, key)
		sheets++
	}
	plan := th.Plan
	// ffmpeg makes as many tiles as there are frames; never point at a sheet
	// it did not write.
	plan.Count = min(plan.Count, sheets*plan.Columns*plan.Rows)
	vtt := plan.VTT(func(n int) string { return fmt.Sprintf("sprite-%d.jpg", n) })
	if err := s.store.Put(ctx, rec.StoryboardKey, vtt, "text/vtt"); err != nil {
		return nil, err
	}
	return rec, nil
}

func (s *core) uploadFile(ctx context.Context, path, key, ctype string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("thumbnail %s: %w", filepath.Base(path), err)
	}
	defer f.Close()
	_, err = s.store.Upload(ctx, key, f, ctype)
	return err
}

// prepareEncode readies an ffmpeg run on the source: the transcoder, a
// presigned URL ffmpeg reads the source through (seeking with ranges), what
// ffprobe finds in it, and a scratch directory the caller removes.
func (s *core) prepareEncode(ctx context.Context, v *catalog.Video) (tc transcode.Config, input string, src *transcode.Source, dir string, err error) {
	tc = transcode.Config{FFmpeg: s.opt.FFmpeg, FFprobe: s.opt.FFprobe, Timeout: s.opt.TranscodeTimeout}
	if input, err = s.store.PresignGet(ctx, v.Source.Key, s.opt.TranscodeTimeout+time.Hour); err != nil {
		return
	}
	if src, err = tc.Probe(ctx, input); err != nil {
		return
	}
	if dir, err = os.MkdirTemp(s.opt.WorkDir, "streamfront-"+v.ID+"-"); err != nil {
		err = fmt.Errorf("scratch dir: %w", err)
	}
	return
}

func (s *core) thumbsFor(dir string, src *transcode.Source) *transcode.Thumbs {
	if src.Video == nil {
		return nil
	}
	w, h := src.Video.DisplaySize()
	return &transcode.Thumbs{
		Plan:          thumbs.Plan(src.Duration, w, h),
		PosterPath:    filepath.Join(dir, "poster.jpg"),
		SpritePattern: filepath.Join(dir, "sprite-%d.jpg"),
	}
}

func outputsFor(dir string, rungs []transcode.Rung) []transcode.Output {
	outs := make([]transcode.Output, len(rungs))
	for i, r := range rungs {
		outs[i] = transcode.Output{Path: filepath.Join(dir, r.Name+".mp4"), Rung: r}
	}
	return outs
}

// firstVideoRendition is the first rendition with a picture, other than
// skip.
func firstVideoRendition(v *catalog.Video, skip string) *catalog.Rendition {
	for i := range v.Renditions {
		if v.Renditions[i].Height > 0 && v.Renditions[i].Name != skip {
			return &v.Renditions[i]
		}
	}
	return nil
}

// describe copies what viewers see of the video from its top index.
func describe(v *catalog.Video, ix *index.Index) {
	v.DurationS = ix.Duration().Seconds()
	if vt := ix.Track(index.Video); vt != nil {
		v.Width, v.Height = int(vt.Width), int(vt.Height)
	}
}

// mergeRenditions adds renditions (replacing same-named ones), best first:
// video renditions by height, then bandwidth; audio-only ones last.
func mergeRenditions(have []catalog.Rendition, added []stored) []catalog.Rendition {
	out := slices.Clone(have)
	for _, a := range added {
		if i := slices.IndexFunc(out, func(r catalog.Rendition) bool { return r.Name == a.rendition.Name }); i >= 0 {
			out[i] = a.rendition
		} else {
			out = append(out, a.rendition)
		}
	}
	slices.SortStableFunc(out, func(a, b catalog.Rendition) int {
		if (a.Height == 0) != (b.Height == 0) {
			if a.Height == 0 {
				return 1
			}
			return -1
		}
		if a.Height != b.Height {
			return b.Height - a.Height
		}
		return int(b.Bandwidth - a.Bandwidth)
	})
	return out
}

// audioGroup describes the audio of index ix (rendition name) as the first
// entry of a group.
func audioGroup(have []catalog.Audio, ix *index.Index, name string) []catalog.Audio {
	at := ix.Track(index.Audio)
	if at == nil {
		return have
	}
	lang := at.Language
	if lang == "und" {
		lang = ""
	}
	return append(have, catalog.Audio{Rendition: name, Name: audioName(int(at.Channels), lang), Channels: int(at.Channels),
		Language: lang, Default: len(have) == 0})
}

// audioGroupFor completes the audio group with what the encodes made: per
// language, one stereo track (every rung carries the same, one is enough)
// and a multichannel one beside it where the source has one. The default
// is the first stereo track (every device plays it).
func audioGroupFor(have []catalog.Audio, added []stored) []catalog.Audio {
	out := slices.Clone(have)
	stereoIn := map[string]bool{}
	for _, a := range out {
		if a.Channels <= 2 {
			stereoIn[a.Language] = true
		}
	}
	for _, a := range added {
		if a.channels == 0 {
			continue
		}
		stereo := a.channels <= 2
		if stereo && stereoIn[a.language] {
			continue
		}
		out = append(out, catalog.Audio{Rendition: a.rendition.Name, Name: audioName(a.channels, a.language),
			Channels: a.channels, Language: a.language})
		stereoIn[a.language] = stereoIn[a.language] || stereo
	}
	def := slices.IndexFunc(out, func(a catalog.Audio) bool { return a.Channels <= 2 })
	if def < 0 && len(out) > 0 {
		def = 0
	}
	for i := range out {
		out[i].Default = i == def
	}
	return out
}

// audioName is what players show for a track: its language in English
// where known, and its channels.
func audioName(channels int, lang string) string {
	name := "Stereo"
	switch {
	case channels == 1:
		name = "Mono"
	case channels > 2:
		name = fmt.Sprintf("Surround %d.1", channels-1)
	}
	if lang == "" {
		return name
	}
	tag, err := language.Parse(lang)
	if err != nil {
		return name
	}
	if n := display.English.Tags().Name(tag); n != "" {
		if channels > 2 {
			return n + " (" + name + ")"
		}
		return n
	}
	return name
}

// progressFunc reports a job's stage and percent.
type progressFunc func(ctx context.Context, stage string, percent float64)

// progressReporter publishes every report and stores one in the catalog
// at most once a second (so origin processes see it, wherever the job
// runs). A job whose video was deleted learns it there and is cancelled
// with errDeleted (cancel may be nil).
func (s *core) progressReporter(id string, cancel context.CancelCauseFunc) progressFunc {
	var saved time.Time
	var lastStage string
	return func(ctx context.Context, stage string, percent float64) {
		s.events.publish(id, event{Status: string(catalog.Processing), Stage: stage, Percent: percent})
		if time.Since(saved) < time.Second && stage == lastStage {
			return
		}
		saved, lastStage = time.Now(), stage
		_, err := s.catalog.Update(ctx, id, func(v *catalog.Video) error {
			// A ready video whose ladder is still encoding shows that work
			// too (it stays ready).
			if v.Status != catalog.Processing && (v.Status != catalog.Ready || v.Final) {
				return errNotProcessing
			}
			v.Stage, v.Percent = stage, percent
			return nil
		})
		switch {
		case errors.Is(err, catalog.ErrNotFound) && cancel != nil:
			cancel(errDeleted)
		case err != nil && !errors.Is(err, errNotProcessing) && ctx.Err() == nil:
			s.log.Warn("save progress", slog.String("id", id), slog.Any("err", err))
		}
	}
}

var errNotProcessing = errors.New("not processing")
