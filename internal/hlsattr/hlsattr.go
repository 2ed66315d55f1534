package hlsattr

import (
	"errors"
	"fmt"
	"strings"
)

// List is an HLS attribute list (RFC 8216 §4.2) kept in its original
// order with raw values, so attributes a caller does not know survive a
// rewrite unchanged (grafov/m3u8 and gohlslib both drop unknown ones when
// they re-encode).
type List []Attr

// Attr is one NAME=value pair; Value is raw: a quoted-string keeps its
// quotes.
type Attr struct {
	Name, Value string
}

// ErrSyntax: the attribute list is malformed.
var ErrSyntax = errors.New("malformed attribute list")

// Parse parses "NAME=value,NAME=\"quoted, with commas\",...". Names are
// [A-Z0-9-]+; a quoted-string runs to the next double quote (HLS has no
// escapes); any other value runs to the next comma.
func Parse(s string) (List, error) {
	var out List
	err := scan(s, func(name, value string, _ int) {
		out = append(out, Attr{Name: name, Value: value})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MapQuoted returns s with the value of every quoted-string attribute
// called name replaced by fn of it (without its quotes), and everything
// else kept byte for byte. It walks the list as Parse does, so a quoted
// value that holds `name="` is not mistaken for the attribute; where s
// stops being a valid list, the rest is kept as it is.
func MapQuoted(s, name string, fn func(string) string) string {
	var b strings.Builder
	last := 0
	// Where the list stops being valid, the rest is kept as it is: the
	// syntax error itself is not needed.
	_ = scan(s, func(n, value string, at int) {
		if n != name || len(value) < 2 || value[0] != '"' {
			return
		}
		if last == 0 {
			b.Grow(len(s) + 64)
		}
		b.WriteString(s[last : at+1])
		b.WriteString(fn(value[1 : len(value)-1]))
		last = at + len(value) - 1
	})
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// scan walks the attribute list s and calls fn with each attribute's
// name, raw value and the offset of that value in s, in order. It returns
// the syntax error at the first malformed point (nil for a valid list);
// fn has then been called for the attributes before it.
func scan(s string, fn func(name, value string, at int)) error {
	trimmed := strings.TrimRight(s, " \t\r")
	rest := trimmed // rest begins at len(trimmed)-len(rest) in s
	for len(rest) > 0 {
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return fmt.Errorf("%w: no NAME= at %q", ErrSyntax, clip(rest))
		}
		name := strings.TrimSpace(rest[:eq])
		if !validName(name) {
			return fmt.Errorf("%w: bad attribute name %q", ErrSyntax, clip(name))
		}
		start := len(trimmed) - len(rest) + eq + 1 // where rest[eq+1:] begins in s
		rest = rest[eq+1:]
		var value string
		at := start
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return fmt.Errorf("%w: unterminated quoted value of %s", ErrSyntax, name)
			}
			value, rest = rest[:end+2], rest[end+2:]
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			raw := rest[:end]
			value, rest = strings.TrimSpace(raw), rest[end:]
			if value == "" || strings.ContainsAny(value, `"`) {
				return fmt.Errorf("%w: bad value of %s", ErrSyntax, name)
			}
			at += strings.Index(raw, value)
		}
		fn(name, value, at)
		if rest == "" {
			break
		}
		if rest[0] != ',' || len(rest) == 1 {
			return fmt.Errorf("%w: expected a comma and another attribute after %s", ErrSyntax, name)
		}
		rest = rest[1:]
	}
	return nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// Raw returns the raw value of name.
func (l List) Raw(name string) (string, bool) {
	for _, a := range l {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// Quoted returns the value of a quoted-string attribute without its
// quotes; ok is false when name is absent or not quoted.
func (l List) Quoted(name string) (string, bool) {
	v, ok := l.Raw(name)
	if !ok || len(v) < 2 || v[0] != '"' {
		return "", false
	}
	return v[1 : len(v)-1], true
}

// With returns a copy of l where name has the raw value: replaced in place
// when present, appended otherwise.
func (l List) With(name, raw string) List {
	out := make(List, 0, len(l)+1)
	found := false
	for _, a := range l {
		if a.Name == name {
			if found {
				continue // a duplicate is invalid; keep one
			}
			a.Value, found = raw, true
		}
		out = append(out, a)
	}
	if !found {
		out = append(out, Attr{Name: name, Value: raw})
	}
	return out
}

func (l List) String() string {
	var b strings.Builder
	for i, a := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(a.Name)
		b.WriteByte('=')
		b.WriteString(a.Value)
	}
	return b.String()
}

// Quote makes a quoted-string. Callers pass strings without double quotes
// or line breaks (checked where they come from).
func Quote(s string) string { return `"` + s + `"` }
