package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as Go writes it: "10s", "1m30s",
// "250ms". Negative durations are refused.
type Duration time.Duration

// D is the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b), false)
	*d = Duration(v)
	return err
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// OptDuration is a Duration that may also be "off" (a setting that can be
// turned off; it reaches the role as a negative duration, which is how the
// roles' Configs spell off).
type OptDuration time.Duration

// D is the value as a time.Duration; off is -1ns.
func (d OptDuration) D() time.Duration { return time.Duration(d) }

func (d *OptDuration) UnmarshalText(b []byte) error {
	v, err := parseDuration(string(b), true)
	*d = OptDuration(v)
	return err
}

func (d OptDuration) MarshalText() ([]byte, error) {
	if d < 0 {
		return []byte("off"), nil
	}
	return []byte(time.Duration(d).String()), nil
}

func parseDuration(s string, offAllowed bool) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if offAllowed && s == "off" {
		return -1, nil
	}
	if s == "0" {
		return 0, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		hint := `a duration such as "10s", "1m30s" or "250ms"`
		if offAllowed {
			hint += `, or "off"`
		}
		return 0, fmt.Errorf("%q is not %s", s, hint)
	}
	if v < 0 {
		if offAllowed {
			return 0, fmt.Errorf("%q is negative; write \"off\" to turn this off", s)
		}
		return 0, fmt.Errorf("%q is negative; durations must be 0 or more", s)
	}
	return v, nil
}

// Size is a number of bytes written with a unit: "256MiB", "10GiB",
// "64KiB", "1GB" (powers of 1000), or a plain number of bytes.
type Size int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

func (s *Size) UnmarshalText(b []byte) error {
	v, err := parseSize(string(b))
	*s = Size(v)
	return err
}

func (s Size) MarshalText() ([]byte, error) {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if s != 0 && int64(s)%u.mult == 0 {
			return []byte(strconv.FormatInt(int64(s)/u.mult, 10) + u.suffix), nil
		}
	}
	return []byte(strconv.FormatInt(int64(s), 10)), nil
}

func parseSize(text string) (int64, error) {
	s := strings.TrimSpace(text)
	mult := int64(1)
	for _, u := range sizeUnits {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, fmt.Errorf("%q is not a size such as \"256MiB\", \"10GiB\" or a number of bytes", text)
	}
	if n < 0 {
		return 0, fmt.Errorf("%q is negative; sizes must be 0 or more", text)
	}
	if n*float64(mult) > math.MaxInt64/2 {
		return 0, fmt.Errorf("%q is too large", text)
	}
	return int64(n * float64(mult)), nil
}

// Bitrate is bits per second: "5M", "1400k" or a number.
type Bitrate int64

func (b *Bitrate) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "M"):
		s, mult = strings.TrimSuffix(s, "M"), 1e6
	case strings.HasSuffix(s, "k"):
		s, mult = strings.TrimSuffix(s, "k"), 1e3
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 || math.IsNaN(n) || math.IsInf(n, 0) || n*mult > 1e12 {
		return fmt.Errorf("%q is not a bitrate such as \"5M\", \"1400k\" or a number of bits per second", string(text))
	}
	*b = Bitrate(n * mult)
	return nil
}

func (b Bitrate) MarshalText() ([]byte, error) {
	switch {
	case b != 0 && b%1_000_000 == 0:
		return []byte(strconv.FormatInt(int64(b)/1_000_000, 10) + "M"), nil
	case b != 0 && b%1000 == 0:
		return []byte(strconv.FormatInt(int64(b)/1000, 10) + "k"), nil
	}
	return []byte(strconv.FormatInt(int64(b), 10)), nil
}

// Secret is a value that is never printed: the effective configuration and
// %v show "(set)" or nothing.
type Secret string

const masked = "(set)"

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return masked
}

func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Secret) UnmarshalText(b []byte) error {
	if string(b) == masked {
		return errors.New(`"(set)" is how a secret is printed, not a secret; write the value itself`)
	}
	*s = Secret(b)
	return nil
}
