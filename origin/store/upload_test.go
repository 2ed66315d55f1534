package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streamfront/streamfront/internal/testenv"
)

func testStore(t *testing.T) *Store {
	t.Helper()
	s3srv := testenv.StartS3(t)
	s, err := New(Config{Endpoint: s3srv.Endpoint, Bucket: "streamfront", AccessKey: s3srv.AccessKey, SecretKey: s3srv.SecretKey,
		PathStyle: true, PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// patterned is n bytes that differ from part to part, made as they are read.
type patterned struct{ off, n int64 }

func (p *patterned) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	k := int(min(int64(len(b)), p.n-p.off))
	for i := range b[:k] {
		x := p.off + int64(i)
		b[i] = byte(x ^ x>>13)
	}
	p.off += int64(k)
	return k, nil
}

func TestUpload_StoresEveryByteWhateverTheSize(t *testing.T) {
	s := testStore(t)
	ctx := context.Background()
	part := s.cfg.PartSize
	for _, size := range []int64{0, 1000, part - 1, part, part + 1, 2*part + part/2, 3 * part} {
		key := "u/" + string(rune('a'+size%26))
		n, err := s.Upload(ctx, key, &patterned{n: size}, "video/mp4")
		if err != nil || n != size {
			t.Fatalf("%d bytes: uploaded %d, %v", size, n, err)
		}
		info, err := s.Head(ctx, key)
		if err != nil || info.Size != size || info.ContentType != "video/mp4" {
			t.Fatalf("%d bytes: stored %+v, %v", size, info, err)
		}
		body, err := s.GetRange(ctx, key, 0, size)
		if err != nil {
			t.Fatal(err)
		}
		got := sha256.New()
		if _, err := io.Copy(got, body); err != nil {
			t.Fatal(err)
		}
		body.Close()
		want := sha256.New()
		_, _ = io.Copy(want, &patterned{n: size})
		if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
			t.Fatalf("%d bytes: stored bytes differ", size)
		}
	}
}

// failing reads n good bytes, then fails like a client that went away.
type failing struct {
	patterned
	err error
}

func (f *failing) Read(b []byte) (int, error) {
	n, err := f.patterned.Read(b)
	if errors.Is(err, io.EOF) {
		return 0, f.err
	}
	return n, err
}

func TestUpload_ABodyThatFailsLeavesNothingBehind(t *testing.T) {
	s := testStore(t)
	ctx := context.Background()
	cut := errors.New("client went away")
	for _, size := range []int64{1000, 2*s.cfg.PartSize + 7} {
		n, err := s.Upload(ctx, "u/cut", &failing{patterned{n: size}, cut}, "video/mp4")
		if !errors.Is(err, cut) || n != size {
			t.Fatalf("%d bytes then an error: got %d, %v; want the body's own error", size, n, err)
		}
		if _, err := s.Head(ctx, "u/cut"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a failed upload left an object: %v", err)
		}
		list, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &s.cfg.Bucket})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Uploads) != 0 {
			t.Fatalf("%d multipart uploads left behind", len(list.Uploads))
		}
	}
}
