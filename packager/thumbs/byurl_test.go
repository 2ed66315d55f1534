package thumbs

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseStill_DefaultsBoundsAndOneNamePerImage(t *testing.T) {
	q := func(s string) url.Values { v, _ := url.ParseQuery(s); return v }
	im, err := ParseStill("jpg", q(""), 20)
	if err != nil || im.Time != 10 || im.Fit != FitPreserve {
		t.Fatalf("defaults: %+v %v", im, err)
	}
	a, _ := ParseStill("jpg", q("time=5&width=320"), 20)
	b, _ := ParseStill("jpg", q("width=320&time=5.000"), 20)
	if a.Name() != b.Name() || a.Name() != "still-t5.000-w320-h0-preserve.jpg" {
		t.Fatalf("names %q and %q", a.Name(), b.Name())
	}
	for _, bad := range []string{"time=-1", "time=21", "time=abc", "time=NaN", "width=0", "width=4000", "height=x", "fit=zoom"} {
		_, err := ParseStill("jpg", q(bad), 20)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: %v, want a ParseError", bad, err)
		}
	}
	if _, err := ParseStill("png", q(""), 20); err == nil {
		t.Error("png accepted")
	}
}

func TestParseAnimated_Bounds(t *testing.T) {
	q := func(s string) url.Values { v, _ := url.ParseQuery(s); return v }
	im, err := ParseAnimated("gif", q("start=2&end=4&fps=10"), 30)
	if err != nil || im.Frames() != 20 || im.Width != 320 {
		t.Fatalf("%+v %v", im, err)
	}
	for _, bad := range []string{"start=0&end=11", "start=5&end=5", "fps=31", "width=641", "end=40"} {
		if _, err := ParseAnimated("gif", q(bad), 30); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	args := strings.Join(im.Args("in", "out.gif"), " ")
	if !strings.Contains(args, "-frames:v 20") || !strings.Contains(args, "palettegen") {
		t.Errorf("args %s", args)
	}
}

func FuzzParseImage(f *testing.F) {
	f.Add("time=5&width=320&fit=crop", 20.0)
	f.Add("start=1&end=3&fps=30&width=640", 3.5)
	f.Fuzz(func(t *testing.T, query string, duration float64) {
		q, err := url.ParseQuery(query)
		if err != nil || duration < 0 || duration > 1e7 {
			return
		}
		for _, parse := range []func(string, url.Values, float64) (Image, error){ParseStill, ParseAnimated} {
			for _, format := range []string{"jpg", "webp", "gif"} {
				im, err := parse(format, q, duration)
				if err != nil {
					continue
				}
				// Whatever is accepted is within the bounds.
				side := MaxStillSide
				if im.Animated {
					side = MaxAnimatedSide
					if im.End-im.Start > MaxAnimatedSpan || im.End <= im.Start || im.FPS < 1 || im.FPS > MaxAnimatedFPS {
						t.Fatalf("%q: %+v out of bounds", query, im)
					}
				}
				if im.Width < 0 || im.Width > side || im.Height < 0 || im.Height > side || im.Time < 0 || im.Time > duration {
					t.Fatalf("%q: %+v out of bounds", query, im)
				}
				if strings.ContainsAny(im.Name(), "/\\ ") {
					t.Fatalf("name %q", im.Name())
				}
			}
		}
	})
}
