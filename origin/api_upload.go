package origin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/streamfront/streamfront/internal/httperr"
	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/origin/webhooks"
)

// sniffBytes is how much of an upload is looked at before anything is
// stored, to refuse what is plainly not a video with a 4xx at once.
const sniffBytes = 4096

// uploadVideo streams a video into S3: a raw body, or multipart with the
// field "file" (plus title, description, tags, visibility). Memory is
// bounded by the store's part buffers whatever the size.
func (s *Server) uploadVideo(w http.ResponseWriter, r *http.Request) error {
	if r.ContentLength > s.cfg.MaxUploadBytes {
		return errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is larger than this server accepts (%d GiB).", s.cfg.MaxUploadBytes>>30))
	}
	body := http.MaxBytesReader(w, r.Body, s.cfg.MaxUploadBytes+1<<20)
	meta := metadata{}
	var file io.Reader
	var filename, contentType string
	var form *multipart.Reader

	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType == "multipart/form-data" {
		var err error
		form, err = r.MultipartReader()
		if err != nil {
			return errorf(http.StatusBadRequest, "The multipart form could not be read: "+err.Error())
		}
		// Fields before the file are read now; fields after it once the
		// file has been stored.
		part, err := readFieldsUntilFile(form, &meta)
		if err != nil {
			return err
		}
		if part == nil {
			return errorf(http.StatusBadRequest, `The form has no "file" field: attach the video as the field named "file".`)
		}
		file, filename, contentType = part, path.Base(part.FileName()), part.Header.Get("Content-Type")
	} else {
		if r.ContentLength == 0 {
			return errorf(http.StatusBadRequest, `The upload is empty: send the video file as the request body, or as the multipart field "file".`)
		}
		q := r.URL.Query()
		for name, dst := range map[string]**string{"title": &meta.title, "description": &meta.description, "visibility": &meta.visibility} {
			if q.Has(name) {
				v := q.Get(name)
				*dst = &v
			}
		}
		if q.Has("tags") {
			meta.tags = splitTags(q.Get("tags"))
		}
		file, contentType = body, r.Header.Get("Content-Type")
	}
	if err := meta.validate(); err != nil {
		return err
	}

	// Look at the first bytes before creating anything.
	peek := bufio.NewReaderSize(file, sniffBytes)
	head, err := peek.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return uploadReadError(err)
	}
	if len(head) == 0 {
		return errorf(http.StatusBadRequest, "The uploaded file is empty: choose a video file that has content.")
	}
	if looksLikeText(head) {
		return errorf(http.StatusUnsupportedMediaType, "The file is text, not a video: upload a video file (MP4, MOV, MKV, WebM…).")
	}

	id := catalog.NewID(time.Now())
	title := strings.TrimSuffix(filename, path.Ext(filename))
	if meta.title != nil {
		title = *meta.title
	}
	if title == "" {
		title = "Untitled video"
	}
	v := &catalog.Video{ID: id, Title: title, Visibility: catalog.Public, Status: catalog.Uploading, Stage: "uploading",
		Source: catalog.Source{Key: catalog.SourceKey(id), ContentType: contentType, Filename: filename}}
	meta.title = nil
	meta.apply(v)
	if err := s.catalog.Create(r.Context(), v); err != nil {
		return err
	}
	// The lease marks the upload as alive; if this process dies mid-upload,
	// another origin (or this one restarted) sees it go stale and marks the
	// video failed instead of leaving it "uploading" forever.
	lease, err := s.jobs.claimNew(r.Context(), id, jobUpload)
	if err != nil {
		return err
	}
	uploadCtx, stop := context.WithCancel(r.Context())
	defer stop()
	go lease.keepAlive(uploadCtx, stop)

	counter := &progressReader{r: peek}
	done := make(chan struct{})
	go s.reportUpload(uploadCtx, id, counter, r.ContentLength, done)
	size, err := s.store.Upload(uploadCtx, v.Source.Key, counter, contentType)
	close(done)
	if err == nil && form != nil {
		err = readTrailingFields(form, &meta)
	}
	if err == nil && size == 0 {
		err = errEmptyUpload
	}
	if err != nil {
		return s.abandonUpload(id, lease, size, err, counter.err != nil)
	}
	v, err = s.catalog.Update(r.Context(), id, func(v *catalog.Video) error {
		v.Source.Size = size
		v.Status, v.Stage, v.Percent = catalog.Processing, "queued", 0
		meta.apply(v)
		return nil
	})
	if err != nil {
		return s.abandonUpload(id, lease, size, err, false)
	}
	// The stored upload goes on the queue to be made playable (by this
	// origin or another). Until the job is queued the lease stays: a crash
	// here leaves it stale, and the sweep queues the job.
	if err := s.queuePackage(r.Context(), id); err != nil {
		return s.abandonUpload(id, lease, size, err, false)
	}
	lease.release(context.WithoutCancel(r.Context()))
	s.events.publish(id, eventFor(v))
	s.emit(r.Context(), webhooks.VideoCreated, id, "")
	w.Header().Set("Location", "/api/v1/videos/"+id)
	return writeJSON(w, http.StatusCreated, s.view(v))
}

// abandonUpload cleans up after an upload that did not complete: the
// partial source is deleted and the video marked failed with a reason, so
// nothing half-written ever looks usable.
// bodyFailed says whether reading the client's body failed; otherwise the
// fault is ours (storage, the catalog, a shutdown) and the answer says so.
func (s *Server) abandonUpload(id string, lease *lease, size int64, cause error, bodyFailed bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reason := fmt.Sprintf("The upload was interrupted after %s; upload the file again.", humanBytes(size))
	status := http.StatusBadRequest
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(cause, errEmptyUpload):
		reason = "The uploaded file is empty: choose a video file that has content."
	case errors.As(cause, &tooBig):
		reason = fmt.Sprintf("The file is larger than this server accepts (%d GiB).", s.cfg.MaxUploadBytes>>30)
		status = http.StatusRequestEntityTooLarge
	case errors.As(cause, new(*httperr.Error)):
		reason = cause.Error()
	case !bodyFailed:
		reason = "The file could not be stored on our side (not a problem with your file); upload it again in a few minutes."
		status = http.StatusServiceUnavailable
	}
	s.log.Warn("upload abandoned", slog.String("id", id), slog.Int64("bytes", size), slog.Any("err", cause))
	_ = s.store.Delete(ctx, catalog.SourceKey(id))
	if _, err := s.catalog.Update(ctx, id, func(v *catalog.Video) error {
		v.Status, v.Error, v.Stage = catalog.Failed, reason, ""
		return nil
	}); err != nil {
		s.log.Error("mark failed upload", slog.String("id", id), slog.Any("err", err))
	}
	lease.release(ctx)
	s.events.publish(id, event{Status: string(catalog.Failed), Error: reason})
	s.emit(ctx, webhooks.VideoFailed, id, "")
	return errorf(status, reason)
}

func uploadReadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errorf(http.StatusRequestEntityTooLarge, "The file is larger than this server accepts.")
	}
	return errorf(http.StatusBadRequest, "The upload could not be read: "+err.Error())
}

// readFieldsUntilFile reads text fields into meta until the "file" part,
// which it returns (nil if the form ends first).
func readFieldsUntilFile(form *multipart.Reader, meta *metadata) (*multipart.Part, error) {
	for {
		part, err := form.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "The multipart form is malformed: "+err.Error())
		}
		if part.FormName() == "file" {
			return part, nil
		}
		if err := readField(part, meta); err != nil {
			return nil, err
		}
	}
}

func readTrailingFields(form *multipart.Reader, meta *metadata) error {
	for {
		part, err := form.NextPart()
		if errors.Is(err, io.EOF) {
			return meta.validate()
		}
		if err != nil {
			return errorf(http.StatusBadRequest, "The multipart form is malformed: "+err.Error())
		}
		if err := readField(part, meta); err != nil {
			return err
		}
	}
}

func readField(part *multipart.Part, meta *metadata) error {
	value, err := io.ReadAll(io.LimitReader(part, 64<<10))
	if err != nil {
		return errorf(http.StatusBadRequest, "The form field "+part.FormName()+" could not be read.")
	}
	v := string(value)
	switch part.FormName() {
	case "title":
		meta.title = &v
	case "description":
		meta.description = &v
	case "tags":
		meta.tags = splitTags(v)
	case "visibility":
		meta.visibility = &v
	}
	return nil
}

// looksLikeText reports whether the first bytes of an upload are plainly
// text (a document, HTML, JSON) rather than a video container.
func looksLikeText(head []byte) bool {
	ct := http.DetectContentType(head)
	if strings.HasPrefix(ct, "text/") {
		return true
	}
	// DetectContentType calls UTF-8 without markup "text/plain"; also catch
	// UTF-8 JSON or CSV that starts oddly.
	return utf8.Valid(head) && bytes.IndexByte(head, 0) < 0 && len(head) >= 16
}

// progressReader counts bytes as the upload streams through.
type progressReader struct {
	r io.Reader
	n atomic.Int64
	// err is the body's own failure (not io.EOF), read once the upload
	// returned: it tells a client that went away from storage that failed.
	err error
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n.Add(int64(n))
	if err != nil && !errors.Is(err, io.EOF) {
		p.err = err
	}
	return n, err
}

// reportUpload publishes upload progress until done.
func (s *Server) reportUpload(ctx context.Context, id string, p *progressReader, total int64, done <-chan struct{}) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
			ev := event{Status: string(catalog.Uploading), Stage: "uploading", Bytes: p.n.Load()}
			if total > 0 {
				ev.Percent = 100 * float64(ev.Bytes) / float64(total)
			}
			s.events.publish(id, ev)
		}
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
