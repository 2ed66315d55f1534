package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tus/tusd/v2/pkg/filestore"
	"github.com/tus/tusd/v2/pkg/handler"
	expslog "golang.org/x/exp/slog"
)

// uploadOrigin is a loopback origin for the upload page: it takes the
// upload — by tus, served by tusd itself over a file store, or multipart
// when noTus is set — remembers what it got, and answers the events
// stream with the given events.
type uploadOrigin struct {
	t      *testing.T
	events []string // data lines of the progress events, in order
	status int      // answer to the upload; 201 unless set
	noTus  bool     // an origin without /api/v1/uploads
	got    chan uploadReceived
	tus    http.Handler
}

// resumable serves tus 1.0 with tusd and its file store; the upload's ID
// is the video's, as the real origin does it.
func (o *uploadOrigin) resumable() http.Handler {
	store := filestore.New(o.t.TempDir())
	composer := handler.NewStoreComposer()
	store.UseIn(composer)
	h, err := handler.NewHandler(handler.Config{
		StoreComposer: composer, BasePath: "/api/v1/uploads/",
		Logger: expslog.New(expslog.NewTextHandler(io.Discard, nil)),
		PreUploadCreateCallback: func(handler.HookEvent) (handler.HTTPResponse, handler.FileInfoChanges, error) {
			return handler.HTTPResponse{}, handler.FileInfoChanges{ID: "up00000000000001"}, nil
		},
		PreFinishResponseCallback: func(hook handler.HookEvent) (handler.HTTPResponse, error) {
			md := hook.Upload.MetaData
			rec := uploadReceived{auth: hook.HTTPRequest.Header.Get("Authorization"), resumable: true,
				fields: map[string]string{"title": md["title"], "description": md["description"], "tags": md["tags"]}, fileName: md["filename"]}
			f, err := os.Open(hook.Upload.Storage["Path"])
			if err != nil {
				return handler.HTTPResponse{}, err
			}
			defer f.Close()
			h := sha256.New()
			rec.fileSize, _ = io.Copy(h, f)
			copy(rec.fileSHA256[:], h.Sum(nil))
			o.got <- rec
			return handler.HTTPResponse{}, nil
		},
	})
	if err != nil {
		o.t.Fatal(err)
	}
	return http.StripPrefix("/api/v1/uploads/", h)
}

type uploadReceived struct {
	resumable  bool
	auth       string
	fieldOrder []string
	fields     map[string]string
	fileName   string
	fileSHA256 [32]byte
	fileSize   int64
}

func (o *uploadOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/v1/uploads") && !o.noTus:
		if o.status != 0 && r.Method == http.MethodPost {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(o.status)
			fmt.Fprint(w, `{"error":"The API key is not valid; ask the operator for the key set in STREAMFRONT_API_KEY."}`)
			o.got <- uploadReceived{auth: r.Header.Get("Authorization"), resumable: true}
			return
		}
		if r.URL.Path == "/api/v1/uploads" {
			r.URL.Path = "/api/v1/uploads/"
		}
		o.tus.ServeHTTP(w, r)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v1/videos":
		o.upload(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/videos/up00000000000001/events":
		w.Header().Set("Content-Type", "text/event-stream")
		for _, e := range o.events {
			fmt.Fprintf(w, "event: progress\ndata: %s\n\n", e)
			w.(http.Flusher).Flush()
		}
	default:
		http.NotFound(w, r)
	}
}

func (o *uploadOrigin) upload(w http.ResponseWriter, r *http.Request) {
	rec := uploadReceived{auth: r.Header.Get("Authorization"), fields: map[string]string{}}
	mr, err := r.MultipartReader()
	if err != nil {
		http.Error(w, `{"error":"Send the video as multipart form data."}`, http.StatusBadRequest)
		return
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			o.t.Errorf("origin: read the multipart body: %v", err)
			return
		}
		rec.fieldOrder = append(rec.fieldOrder, part.FormName())
		if part.FormName() == "file" {
			h := sha256.New()
			rec.fileName = part.FileName()
			rec.fileSize, _ = io.Copy(h, part)
			copy(rec.fileSHA256[:], h.Sum(nil))
			continue
		}
		b, _ := io.ReadAll(part)
		rec.fields[part.FormName()] = string(b)
	}
	o.got <- rec
	w.Header().Set("Content-Type", "application/json")
	if o.status != 0 {
		w.WriteHeader(o.status)
		fmt.Fprint(w, `{"error":"The API key is not valid; ask the operator for the key set in STREAMFRONT_API_KEY."}`)
		return
	}
	w.WriteHeader(http.StatusCreated)
	fmt.Fprint(w, `{"id":"up00000000000001","title":"x","status":"processing"}`)
}

func TestUpload_SendsTheFileAndFollowsProcessingInChromium(t *testing.T) {
	requirePlayerTooling(t) // upload.mjs uses the player's playwright-core
	clip := filepath.Join(t.TempDir(), "holiday clip.mp4")
	clipBytes := bytes.Repeat([]byte("not really a video, the origin here does not care\n"), 40_000) // ~2 MB
	if err := os.WriteFile(clip, clipBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	ready := `{"status":"ready","percent":100,"video":{"id":"up00000000000001","title":"Holiday","status":"ready"}}`
	failed := `{"status":"failed","percent":40,"video":{"id":"up00000000000001","status":"failed","error":"The file is not a video ffmpeg can read; upload an MP4, MOV, MKV or WebM file."}}`
	processing := []string{
		`{"status":"processing","stage":"probing","percent":5}`,
		`{"status":"processing","stage":"transcoding","percent":40}`,
		`{"status":"processing","stage":"indexing","percent":90}`,
	}
	tests := []struct {
		name       string
		events     []string
		status     int
		apiKey     string
		wantOK     bool
		wantText   string // in the result or the error shown
		wantStages []string
		noTus      bool // the one-request upload, as to an origin without tus
	}{
		{"ready", append(processing, ready), 0, "dev-key", true, "Your video is ready.", []string{"probing", "transcoding", "indexing", "ready"}, false},
		{"ready, then more qualities", append([]string{processing[0]},
			`{"status":"ready","stage":"encoding renditions","percent":30,"video":{"id":"up00000000000001","title":"Holiday","status":"ready"}}`,
			`{"status":"ready","stage":"storing renditions","percent":100,"video":{"id":"up00000000000001","title":"Holiday","status":"ready"}}`,
			ready), 0, "dev-key", true, "Your video is ready.", []string{"probing", "ready · encoding renditions", "ready · storing renditions", "ready"}, false},
		{"failed", append(processing[:2], failed), 0, "dev-key", false, "The file is not a video ffmpeg can read", []string{"probing", "transcoding", "failed"}, false},
		{"key refused", nil, http.StatusUnauthorized, "wrong", false, "The API key is not valid", nil, false},
		{"ready, by one request to an origin without tus", []string{processing[0], ready}, 0, "dev-key", true, "Your video is ready.", []string{"probing", "ready"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			origin := &uploadOrigin{t: t, events: tc.events, status: tc.status, noTus: tc.noTus, got: make(chan uploadReceived, 1)}
			origin.tus = origin.resumable()
			originSrv := httptest.NewServer(origin)
			t.Cleanup(originSrv.Close)
			site, err := New(Config{APIURL: originSrv.URL, DevAPIKey: "dev-key"})
			if err != nil {
				t.Fatal(err)
			}
			base := startSite(t, site)

			res := runUploadScript(t, tc.name,
				"--url", base+"/upload", "--file", clip, "--title", "Holiday",
				"--description", "Sun & <sea>", "--tags", "beach, summer", "--api-key", tc.apiKey)
			if res.OK != tc.wantOK {
				t.Fatalf("ok = %v, want %v: %+v", res.OK, tc.wantOK, res)
			}
			if !strings.Contains(res.Result+res.Error, tc.wantText) {
				t.Errorf("page shows %q / %q, want %q", res.Result, res.Error, tc.wantText)
			}
			if tc.wantOK && res.WatchURL != "/watch/up00000000000001" {
				t.Errorf("watch link %q", res.WatchURL)
			}
			if tc.wantStages != nil && strings.Join(res.Stages, ",") != strings.Join(tc.wantStages, ",") {
				t.Errorf("stages shown %v, want %v", res.Stages, tc.wantStages)
			}
			if res.UploadPercent != 100 && tc.status == 0 {
				t.Errorf("upload bar reached %d%%, want 100", res.UploadPercent)
			}

			rec := <-origin.got
			if rec.auth != "Bearer "+tc.apiKey {
				t.Errorf("Authorization %q", rec.auth)
			}
			if rec.resumable == tc.noTus {
				t.Errorf("resumable upload %v, want %v", rec.resumable, !tc.noTus)
			}
			if tc.status != 0 {
				return // refused at creation: nothing was sent
			}
			if got := strings.Join(rec.fieldOrder, ","); !rec.resumable && got != "title,description,tags,file" {
				t.Errorf("multipart fields in order %s, want the metadata before the file", got)
			}
			if rec.fields["title"] != "Holiday" || rec.fields["description"] != "Sun & <sea>" || rec.fields["tags"] != "beach, summer" {
				t.Errorf("fields %v", rec.fields)
			}
			if rec.fileName != "holiday clip.mp4" || rec.fileSize != int64(len(clipBytes)) || rec.fileSHA256 != sha256.Sum256(clipBytes) {
				t.Errorf("file %q of %d bytes arrived, want %d bytes intact", rec.fileName, rec.fileSize, len(clipBytes))
			}
		})
	}
}

type uploadResult struct {
	OK            bool     `json:"ok"`
	Reason        string   `json:"reason"`
	Result        string   `json:"result"`
	WatchURL      string   `json:"watchURL"`
	Stages        []string `json:"stages"`
	UploadPercent int      `json:"uploadPercent"`
	Error         string   `json:"error"`
	Errors        []struct {
		Source  string `json:"source"`
		Message string `json:"message"`
	} `json:"errors"`
}

func runUploadScript(t *testing.T, name string, args ...string) uploadResult {
	t.Helper()
	dir := os.Getenv("STREAMFRONT_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "web-upload-"+strings.ReplaceAll(name, " ", "-")+".png")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute) // only a hung browser hits this
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join("e2e", "upload.mjs"), "--screenshot", shot}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	t.Logf("screenshot: %s\nupload.mjs: %s", shot, stdout.String())
	var res uploadResult
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		t.Fatalf("upload.mjs printed no JSON result (%v; exit %v)\nstderr: %s", err, runErr, stderr.String())
	}
	if res.Reason != "" && strings.HasPrefix(res.Reason, "error:") {
		t.Fatalf("upload.mjs could not drive the page: %s\nstderr: %s", res.Reason, stderr.String())
	}
	for _, e := range res.Errors {
		// A refused upload logs the 401 it got, and the page's tus attempt
		// on an origin without tus its 404; nothing else may go wrong.
		if !strings.Contains(e.Message, "401") && !(strings.Contains(name, "without tus") && strings.Contains(e.Message, "404")) {
			t.Errorf("browser error: %s: %s", e.Source, e.Message)
		}
	}
	return res
}
