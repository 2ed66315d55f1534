package config_test

import (
	"os"
	"testing"

	"github.com/streamfront/streamfront/internal/config"
	"github.com/streamfront/streamfront/internal/testenv"
)

// A deployment file, however broken, gets an answer: problems or a
// deployment, never a panic; a deployment that loads can be printed and
// checked.
func FuzzParse(f *testing.F) {
	committed, err := os.ReadFile(testenv.RepoRoot(f) + "/streamfront.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(committed, "x")
	f.Add([]byte("edges:\n  - {name: a, url: \"http://a\", shields: [a]}\n"), "v")
	f.Add([]byte("secrets:\n  api_key: ${V}\n  edge_secret: \"${V:-d}\"\n"), `a #b: "c'`)
	f.Add([]byte("worker: {ladder: [{name: x, short_side: 1e9, bitrate: -1}]}\nedge: {memory_size: 1e400GiB}\n"), "")
	f.Fuzz(func(t *testing.T, data []byte, value string) {
		l, err := config.Parse("fuzz.yaml", data, func(string) (string, bool) { return value, true })
		if err == nil {
			if _, err := l.Effective(); err != nil {
				t.Fatalf("a deployment that loaded does not print: %v", err)
			}
			_ = l.Check()
		}
	})
}
