package thumbs

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
)

// Images by URL: a still at any time, or a short animation, of any size,
// asked for in the query (Mux's and Cloudflare Stream's thumbnail and
// animated URLs). Each distinct ask is made once and stored; the bounds
// keep one request from costing more than a second or two of ffmpeg.
const (
	MaxStillSide    = 1920
	MaxAnimatedSide = 640
	MaxAnimatedSpan = 10.0 // seconds
	MaxAnimatedFPS  = 30
)

// Fits of a still into width×height, when both are given.
const (
	FitPreserve = "preserve" // within the box, keeping the aspect ratio (default)
	FitCrop     = "crop"     // fills the box, cropping the overflow
	FitPad      = "pad"      // within the box, padded with black to fill it
	FitStretch  = "stretch"  // fills the box, distorting
)

// Image is one image asked for by URL.
type Image struct {
	Format   string // "jpg", "webp" or "gif"
	Animated bool
	// Time is a still's instant; Start and End an animation's span (s).
	Time, Start, End float64
	// Width and Height bound the size; 0 follows the other (or the source).
	Width, Height int
	Fit           string
	FPS           int
}

// ParseError is a query a person must fix; its text says how.
type ParseError struct{ msg string }

func (e *ParseError) Error() string { return e.msg }

func bad(format string, a ...any) error { return &ParseError{fmt.Sprintf(format, a...)} }

func seconds(q url.Values, name string, def, duration float64) (float64, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, bad("%s must be a number of seconds from 0, like %s=5 or %s=12.5.", name, name, name)
	}
	if v > duration {
		return 0, bad("%s=%g is past the end: the video lasts %.3f s.", name, v, duration)
	}
	return v, nil
}

func pixels(q url.Values, name string, limit int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || v > limit {
		return 0, bad("%s must be a whole number of pixels from 1 to %d.", name, limit)
	}
	return v, nil
}

// ParseStill reads a still's query: time (default: the middle), width,
// height, fit.
func ParseStill(format string, q url.Values, duration float64) (Image, error) {
	im := Image{Format: format, Fit: FitPreserve}
	if format != "jpg" && format != "webp" {
		return im, bad("a thumbnail is .jpg or .webp.")
	}
	var err error
	if im.Time, err = seconds(q, "time", duration/2, duration); err != nil {
		return im, err
	}
	if im.Width, err = pixels(q, "width", MaxStillSide); err != nil {
		return im, err
	}
	if im.Height, err = pixels(q, "height", MaxStillSide); err != nil {
		return im, err
	}
	if f := q.Get("fit"); f != "" {
		switch f {
		case FitPreserve, FitCrop, FitPad, FitStretch:
			im.Fit = f
		default:
			return im, bad("fit must be preserve, crop, pad or stretch.")
		}
	}
	return im, nil
}

// ParseAnimated reads an animation's query: start (0), end (start+5 s, at
// most 10 s after start), width (320), fps (15).
func ParseAnimated(format string, q url.Values, duration float64) (Image, error) {
	im := Image{Format: format, Animated: true, Fit: FitPreserve}
	if format != "gif" && format != "webp" {
		return im, bad("an animation is .gif or .webp.")
	}
	var err error
	if im.Start, err = seconds(q, "start", 0, duration); err != nil {
		return im, err
	}
	if im.End, err = seconds(q, "end", math.Min(im.Start+5, duration), duration); err != nil {
		return im, err
	}
	if im.End <= im.Start {
		return im, bad("end must be after start.")
	}
	if im.End-im.Start > MaxAnimatedSpan {
		return im, bad("an animation spans at most %g s; ask for less between start and end.", MaxAnimatedSpan)
	}
	if im.Width, err = pixels(q, "width", MaxAnimatedSide); err != nil {
		return im, err
	}
	if im.Height, err = pixels(q, "height", MaxAnimatedSide); err != nil {
		return im, err
	}
	if im.Width == 0 && im.Height == 0 {
		im.Width = 320
	}
	im.FPS = 15
	if s := q.Get("fps"); s != "" {
		if im.FPS, err = strconv.Atoi(s); err != nil || im.FPS < 1 || im.FPS > MaxAnimatedFPS {
			return im, bad("fps must be a whole number from 1 to %d.", MaxAnimatedFPS)
		}
	}
	return im, nil
}

// Frames is how many frames an animation has.
func (im Image) Frames() int { return max(1, int(math.Round((im.End-im.Start)*float64(im.FPS)))) }

// Name is the canonical file name of the image: two queries that ask for
// the same image (in any order, with any spelling of a number) share it.
func (im Image) Name() string {
	if im.Animated {
		return fmt.Sprintf("animated-s%.3f-e%.3f-w%d-h%d-f%d.%s", im.Start, im.End, im.Width, im.Height, im.FPS, im.Format)
	}
	return fmt.Sprintf("still-t%.3f-w%d-h%d-%s.%s", im.Time, im.Width, im.Height, im.Fit, im.Format)
}

// ContentType is the image's media type.
func (im Image) ContentType() string {
	switch im.Format {
	case "webp":
		return "image/webp"
	case "gif":
		return "image/gif"
	}
	return "image/jpeg"
}

// scale is the filter that sizes the picture (-2 keeps the ratio with an
// even side; sources with non-square pixels are squared first).
func (im Image) scale() string {
	w, h := im.Width, im.Height
	square := "scale=trunc(iw*sar/2)*2:ih,setsar=1,"
	switch {
	case w == 0 && h == 0:
		return square + fmt.Sprintf("scale='min(iw,%d)':-2", MaxStillSide)
	case h == 0:
		return square + fmt.Sprintf("scale=%d:-2", w)
	case w == 0:
		return square + fmt.Sprintf("scale=-2:%d", h)
	}
	switch im.Fit {
	case FitCrop:
		return square + fmt.Sprintf("scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d", w, h, w, h)
	case FitPad:
		return square + fmt.Sprintf("scale=%d:%d:force_original_aspect_ratio=decrease,pad=%d:%d:(ow-iw)/2:(oh-ih)/2", w, h, w, h)
	case FitStretch:
		return square + fmt.Sprintf("scale=%d:%d", w, h)
	}
	return square + fmt.Sprintf("scale=%d:%d:force_original_aspect_ratio=decrease", w, h)
}

// Args are ffmpeg's arguments to make the image from input into out. The
// seek is before the input (fast: from the keyframe before, decoding up to
// the instant, so the frame is exact).
func (im Image) Args(input, out string) []string {
	ts := func(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
	if !im.Animated {
		args := []string{"-nostdin", "-v", "error", "-y", "-ss", ts(im.Time), "-i", input, "-map", "0:v:0",
			"-frames:v", "1", "-vf", im.scale()}
		if im.Format == "webp" {
			return append(args, "-c:v", "libwebp", "-quality", "80", "-f", "webp", out)
		}
		return append(args, "-q:v", "3", "-f", "image2", "-c:v", "mjpeg", out)
	}
	vf := fmt.Sprintf("fps=%d,%s", im.FPS, im.scale())
	args := []string{"-nostdin", "-v", "error", "-y", "-ss", ts(im.Start), "-t", ts(im.End - im.Start), "-i", input, "-map", "0:v:0",
		"-frames:v", strconv.Itoa(im.Frames()), "-an"}
	if im.Format == "webp" {
		return append(args, "-vf", vf, "-c:v", "libwebp_anim", "-quality", "70", "-loop", "0", "-f", "webp", out)
	}
	// A palette made from these very frames: GIF's 256 colours, well chosen.
	return append(args, "-vf", vf+",split[a][b];[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=bayer",
		"-loop", "0", "-f", "gif", out)
}
