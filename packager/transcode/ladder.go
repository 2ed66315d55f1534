package transcode

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ParseLadder reads a ladder from text, as flags and environment variables
// give it: "name:shortSide:bitrate,…" (bitrate in bits/s, or with a k or M
// suffix), e.g. "1080p:1080:5M,720p:720:3M". "none" or "" is an empty
// ladder: only the source (or one rung at its size, when it must be
// transcoded) is made.
func ParseLadder(s string) ([]Rung, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return []Rung{}, nil
	}
	var out []Rung
	for _, item := range strings.Split(s, ",") {
		parts := strings.Split(strings.TrimSpace(item), ":")
		if len(parts) != 3 || parts[0] == "" {
			return nil, fmt.Errorf("ladder rung %q: want name:shortSide:bitrate, e.g. 720p:720:3M", item)
		}
		side, err := strconv.Atoi(parts[1])
		if err != nil {
			return nil, fmt.Errorf("ladder rung %q: the short side must be a number of lines from 16 to 8192", item)
		}
		rate, err := parseBitrate(parts[2])
		if err != nil {
			return nil, fmt.Errorf("ladder rung %q: %w", item, err)
		}
		r := Rung{Name: parts[0], ShortSide: side, VideoBitrate: rate}
		if err := r.Check(); err != nil {
			return nil, fmt.Errorf("ladder rung %q: %w", item, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Check says what is wrong with a rung of a configured ladder.
func (r Rung) Check() error {
	if r.Name == "" {
		return errors.New("a rung needs a name")
	}
	for _, c := range r.Name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return errors.New("the name may hold letters, digits, - and _ only (it becomes part of URLs)")
		}
	}
	if r.Name == "src" || r.Name == "encoding" || r.Name == "captions" || r.Name == "rec" {
		return fmt.Errorf("%q is a name of our own (the source, the HLS of an encode under way, the captions, a live recording)", r.Name)
	}
	if r.ShortSide < 16 || r.ShortSide > 8192 {
		return errors.New("the short side must be a number of lines from 16 to 8192")
	}
	if r.VideoBitrate <= 0 || r.VideoBitrate > 1e10 {
		return errors.New("the bitrate must be a positive number of bits/s up to 10G")
	}
	return nil
}

func parseBitrate(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1_000, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "M"):
		mult, s = 1_000_000, strings.TrimSuffix(s, "M")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || v*float64(mult) > 1e10 {
		return 0, fmt.Errorf("bitrate %q is not a positive number of bits/s (k and M suffixes allowed)", s)
	}
	return int64(v * float64(mult)), nil
}
