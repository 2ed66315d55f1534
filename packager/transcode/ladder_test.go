package transcode

import (
	"reflect"
	"testing"
)

func TestParseLadder(t *testing.T) {
	got, err := ParseLadder("1080p:1080:5M, 720p:720:3000k,360p:360:800000")
	want := []Rung{{"1080p", 1080, 5_000_000}, {"720p", 720, 3_000_000}, {"360p", 360, 800_000}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v %v, want %v", got, err, want)
	}
	if got, err := ParseLadder("none"); err != nil || len(got) != 0 || got == nil {
		t.Fatalf("none: %v %v", got, err)
	}
	for _, bad := range []string{"720p:720", "../x:720:1M", "src:720:1M", "rec:720:1M", "encoding:720:1M", "720p:lots:1M", "720p:720:-1", "720p:720:fast"} {
		if _, err := ParseLadder(bad); err == nil {
			t.Errorf("ParseLadder(%q) accepted it", bad)
		}
	}
}
