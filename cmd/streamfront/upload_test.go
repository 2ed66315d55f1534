package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/streamfront/streamfront/internal/stack"
	"github.com/streamfront/streamfront/internal/testenv"
)

func TestUpload_SendsTheFileAndFollowsItToReady(t *testing.T) {
	st, err := stack.Start(context.Background(), stack.Config{
		Deployment: stack.Local(t.TempDir(), "cli-key"), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	file := testenv.MakeVideo(t, t.TempDir(), testenv.Video{Name: "holiday.mp4", Seconds: 4})

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"upload", "-api", st.WebURL, "-api-key", "cli-key",
		"-title", "Holiday", "-tags", "sea,sun", file}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("upload exited %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"uploaded: ", "ready", "watch: " + st.WebURL + "/watch/", "hls:   " + st.RouterURL} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A wrong key is a clear error and a non-zero exit.
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"upload", "-api", st.WebURL, "-api-key", "wrong", file}, &stdout, &stderr); code == 0 ||
		!strings.Contains(stderr.String(), "not valid") {
		t.Fatalf("wrong key: exit %d, stderr %q", code, stderr.String())
	}
}
