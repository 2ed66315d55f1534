package origin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	"github.com/tus/tusd/v2/pkg/s3store"
	expslog "golang.org/x/exp/slog"

	"github.com/streamfront/streamfront/origin/catalog"
	"github.com/streamfront/streamfront/origin/store"
	"github.com/streamfront/streamfront/origin/webhooks"
)

// Resumable uploads speak tus 1.0 (tusd, its S3 store) under
// /api/v1/uploads/, for files too large to send in one request, or over
// connections that drop: the client learns the offset stored (HEAD) and
// sends the rest (PATCH).
//
//   - Creation (POST, with Upload-Length and Upload-Metadata: filename,
//     title, description, tags, visibility) makes the video, "uploading",
//     and answers its ID in Streamfront-Video-Id. The upload's object IS
//     the video's source (sources/{id}), written as an S3 multipart
//     upload, so nothing is copied when it completes.
//   - Completion (the last PATCH) marks it processing and queues it, as
//     the one-request upload does.
//   - An upload not completed within ResumableExpiry of its creation is
//     removed and the video marked failed; a pending marker
//     (uploads/pending/{id}) lets any origin's sweep find it, and also
//     finishes an upload whose completion was cut by a crash.
//
// Chunks are buffered on disk by tusd (WorkDir, at most 4 parts of 16 MiB
// per upload), never in memory. Locks are per process: a client resumes
// against the origin that has its upload, or waits for a stale lock
// (20 s).

const (
	resumablePath  = "/api/v1/uploads/"
	pendingPrefix  = "uploads/pending/"
	tusInfoPrefix  = "uploads/tus/"
	videoIDHeader  = "Streamfront-Video-Id"
	tusPartSize    = 16 << 20
	tusBufferParts = 4
)

func pendingKey(id string) string { return pendingPrefix + id }

// resumable builds the tus handler over the store.
func (s *Server) resumable() (http.Handler, error) {
	st := s3store.New(s.store.Bucket(), s.store.Client())
	st.ObjectPrefix = "sources/" // + the upload ID, the video's: catalog.SourceKey
	st.MetadataObjectPrefix = tusInfoPrefix
	st.PreferredPartSize = tusPartSize
	st.MaxBufferedParts = tusBufferParts
	st.TemporaryDirectory = s.cfg.WorkDir
	st.MaxObjectSize = max(s.cfg.MaxUploadBytes, tusPartSize)
	composer := handler.NewStoreComposer()
	st.UseIn(composer)
	memorylocker.New().UseIn(composer)
	h, err := handler.NewHandler(handler.Config{
		StoreComposer:             composer,
		BasePath:                  resumablePath,
		MaxSize:                   s.cfg.MaxUploadBytes,
		DisableDownload:           true,
		DisableConcatenation:      true,
		RespectForwardedHeaders:   true,
		Logger:                    expslog.New(tusLog{s.log}),
		PreUploadCreateCallback:   s.resumableCreate,
		PreFinishResponseCallback: s.resumableFinish,
		PreUploadTerminateCallback: func(hook handler.HookEvent) (handler.HTTPResponse, error) {
			s.failResumable(hook.Context, hook.Upload.ID, "The upload was cancelled by its sender.")
			return handler.HTTPResponse{}, nil
		},
		Cors: &handler.CorsConfig{
			AllowOrigin:   handler.DefaultCorsConfig.AllowOrigin,
			AllowMethods:  handler.DefaultCorsConfig.AllowMethods,
			AllowHeaders:  handler.DefaultCorsConfig.AllowHeaders + ", Authorization",
			MaxAge:        handler.DefaultCorsConfig.MaxAge,
			ExposeHeaders: handler.DefaultCorsConfig.ExposeHeaders + ", " + videoIDHeader,
		},
	})
	if err != nil {
		return nil, err
	}
	return http.StripPrefix(resumablePath, h), nil
}

// tusRefusal is an error tusd answers with status and our JSON error.
func tusRefusal(status int, msg string) error {
	body, _ := json.Marshal(map[string]string{"error": msg})
	return handler.Error{ErrorCode: "ERR_STREAMFRONT", Message: msg, HTTPResponse: handler.HTTPResponse{
		StatusCode: status, Body: string(body) + "\n", Header: handler.HTTPHeader{"Content-Type": "application/json"}}}
}

// tusLog passes tusd's warnings and errors to our logger; its per-request
// INFO lines are dropped (the access log has the requests).
type tusLog struct{ to *slog.Logger }

func (l tusLog) Enabled(_ context.Context, lv expslog.Level) bool { return lv >= expslog.LevelWarn }
func (l tusLog) WithAttrs([]expslog.Attr) expslog.Handler         { return l }
func (l tusLog) WithGroup(string) expslog.Handler                 { return l }
func (l tusLog) Handle(ctx context.Context, r expslog.Record) error {
	args := []any{slog.String("from", "tusd")}
	r.Attrs(func(a expslog.Attr) bool {
		args = append(args, slog.Any(a.Key, a.Value.Any()))
		return true
	})
	l.to.Log(ctx, slog.Level(r.Level), r.Message, args...)
	return nil
}

// resumableCreate makes the video of a new upload.
func (s *Server) resumableCreate(hook handler.HookEvent) (handler.HTTPResponse, handler.FileInfoChanges, error) {
	up := hook.Upload
	if up.SizeIsDeferred || up.Size <= 0 {
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, tusRefusal(http.StatusBadRequest,
			"Send the file's size in Upload-Length (a deferred or zero length is not accepted).")
	}
	md := up.MetaData
	meta := metadata{}
	for name, dst := range map[string]**string{"title": &meta.title, "description": &meta.description, "visibility": &meta.visibility} {
		if v, ok := md[name]; ok {
			*dst = &v
		}
	}
	if t, ok := md["tags"]; ok {
		meta.tags = splitTags(t)
	}
	if err := meta.validate(); err != nil {
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, tusRefusal(http.StatusBadRequest, err.Error())
	}
	filename := path.Base(md["filename"])
	if filename == "." || filename == "/" {
		filename = path.Base(md["name"]) // what Cloudflare's clients send
	}
	title := strings.TrimSuffix(filename, path.Ext(filename))
	if meta.title != nil {
		title = *meta.title
	}
	if title == "" || title == "." || title == "/" {
		title = "Untitled video"
	}
	ctx := hook.Context
	id := catalog.NewID(time.Now())
	v := &catalog.Video{ID: id, Title: title, Visibility: catalog.Public, Status: catalog.Uploading, Stage: "uploading",
		Source: catalog.Source{Key: catalog.SourceKey(id), Size: up.Size, ContentType: md["filetype"], Filename: filename, Resumable: true}}
	meta.title = nil
	meta.apply(v)
	// The marker first: a crash after it leaves something the sweep
	// cleans; a video without it could stay "uploading" for ever.
	if err := s.store.Put(ctx, pendingKey(id), nil, "application/octet-stream"); err != nil {
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, err
	}
	if err := s.catalog.Create(ctx, v); err != nil {
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, err
	}
	s.events.publish(id, eventFor(v))
	return handler.HTTPResponse{Header: handler.HTTPHeader{videoIDHeader: id}},
		handler.FileInfoChanges{ID: id}, nil
}

// uploadVideoID is the video of a tus upload ID ("{video}+{multipart}").
func uploadVideoID(uploadID string) string {
	id, _, _ := strings.Cut(uploadID, "+")
	return id
}

// resumableFinish queues a completed upload, as the one-request upload
// does once its body is stored.
func (s *Server) resumableFinish(hook handler.HookEvent) (handler.HTTPResponse, error) {
	id := uploadVideoID(hook.Upload.ID)
	if err := s.completeResumable(hook.Context, id, hook.Upload.Size); err != nil {
		return handler.HTTPResponse{}, err
	}
	return handler.HTTPResponse{Header: handler.HTTPHeader{videoIDHeader: id}}, nil
}

func (s *Server) completeResumable(ctx context.Context, id string, size int64) error {
	v, err := s.catalog.Update(ctx, id, func(v *catalog.Video) error {
		if v.Status != catalog.Uploading {
			return errAlreadyDone
		}
		v.Source.Size = size
		v.Status, v.Stage, v.Percent = catalog.Processing, "queued", 0
		return nil
	})
	if errors.Is(err, errAlreadyDone) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.queuePackage(ctx, id); err != nil {
		return err // the sweep queues it later: the marker stays
	}
	_ = s.store.Delete(ctx, pendingKey(id))
	s.events.publish(id, eventFor(v))
	s.emit(ctx, webhooks.VideoCreated, id, "")
	return nil
}

var errAlreadyDone = errors.New("not uploading any more")

// failResumable marks the video of a removed upload failed.
func (s *Server) failResumable(ctx context.Context, uploadID, reason string) {
	id := uploadVideoID(uploadID)
	if !catalog.ValidID(id) {
		return
	}
	v, err := s.catalog.Update(ctx, id, func(v *catalog.Video) error {
		if v.Status != catalog.Uploading {
			return errAlreadyDone
		}
		v.Status, v.Error, v.Stage = catalog.Failed, reason, ""
		return nil
	})
	_ = s.store.Delete(ctx, pendingKey(id))
	if err != nil {
		return
	}
	s.notify(ctx, v)
}

// sweepResumable finishes uploads whose completion a crash cut short and
// removes those not completed within ResumableExpiry.
func (s *Server) sweepResumable(ctx context.Context) {
	keys, _, err := s.store.ListPage(ctx, pendingPrefix, "", "", 1000)
	if err != nil {
		s.log.Warn("resumable sweep", slog.Any("err", err))
		return
	}
	for _, k := range keys {
		id := strings.TrimPrefix(k, pendingPrefix)
		v, err := s.catalog.Get(ctx, id)
		if errors.Is(err, catalog.ErrNotFound) || err == nil && v.Status != catalog.Uploading {
			_ = s.store.Delete(ctx, k) // deleted, or done
			continue
		}
		if err != nil {
			continue
		}
		if info, err := s.store.Head(ctx, v.Source.Key); err == nil && info.Size == v.Source.Size {
			// The multipart upload completed; its completion was not recorded.
			if err := s.completeResumable(ctx, id, info.Size); err != nil {
				s.log.Warn("resumable sweep: complete", slog.String("id", id), slog.Any("err", err))
			}
			continue
		}
		if time.Since(v.CreatedAt) < s.cfg.ResumableExpiry {
			continue
		}
		s.log.Info("resumable upload expired", slog.String("id", id))
		if err := s.abortResumable(ctx, id); err != nil {
			s.log.Warn("resumable sweep: abort", slog.String("id", id), slog.Any("err", err))
			continue
		}
		s.failResumable(ctx, id, fmt.Sprintf("The upload was not completed within %s of its start and was removed; upload the file again.", s.cfg.ResumableExpiry))
	}
}

// abortResumable removes what tusd keeps of video id's upload: the
// multipart upload, its parts and its info.
func (s *Server) abortResumable(ctx context.Context, id string) error {
	// The info (tusd's FileInfo, named by the object) has the upload's full
	// ID, with the multipart upload's.
	body, _, err := s.store.Get(ctx, tusInfoPrefix+id+".info", 1<<20)
	if errors.Is(err, store.ErrNotFound) {
		return nil // never created, or removed already
	}
	if err != nil {
		return err
	}
	var info handler.FileInfo
	if err := json.Unmarshal(body, &info); err != nil {
		return fmt.Errorf("tus info of %s: %w", id, err)
	}
	st := s3store.New(s.store.Bucket(), s.store.Client())
	st.ObjectPrefix, st.MetadataObjectPrefix = "sources/", tusInfoPrefix
	up, err := st.GetUpload(ctx, info.ID)
	if err != nil {
		return err
	}
	return st.AsTerminatableUpload(up).Terminate(ctx)
}
