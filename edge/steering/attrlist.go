package steering

import (
	"errors"
	"fmt"
	"strings"
)

// attrList is an HLS attribute list (RFC 8216 §4.2) kept in its original
// order with raw values, so attributes the router does not know survive a
// rewrite unchanged (grafov/m3u8 and gohlslib both drop unknown ones when
// they re-encode, which is why the router does not use them to write).
type attrList []attr

// attr is one NAME=value pair; value is raw: a quoted-string keeps its
// quotes.
type attr struct {
	name, value string
}

var errAttrSyntax = errors.New("malformed attribute list")

// parseAttrList parses "NAME=value,NAME=\"quoted, with commas\",...".
// Names are [A-Z0-9-]+; a quoted-string runs to the next double quote
// (HLS has no escapes); any other value runs to the next comma.
func parseAttrList(s string) (attrList, error) {
	var out attrList
	s = strings.TrimRight(s, " \t\r")
	for len(s) > 0 {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("%w: no NAME= at %q", errAttrSyntax, clip(s))
		}
		name := strings.TrimSpace(s[:eq])
		if !validAttrName(name) {
			return nil, fmt.Errorf("%w: bad attribute name %q", errAttrSyntax, clip(name))
		}
		s = s[eq+1:]
		var value string
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("%w: unterminated quoted value of %s", errAttrSyntax, name)
			}
			value, s = s[:end+2], s[end+2:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			value, s = strings.TrimSpace(s[:end]), s[end:]
			if value == "" || strings.ContainsAny(value, `"`) {
				return nil, fmt.Errorf("%w: bad value of %s", errAttrSyntax, name)
			}
		}
		out = append(out, attr{name: name, value: value})
		if s == "" {
			break
		}
		if s[0] != ',' || len(s) == 1 {
			return nil, fmt.Errorf("%w: expected a comma and another attribute after %s", errAttrSyntax, name)
		}
		s = s[1:]
	}
	return out, nil
}

func validAttrName(s string) bool {
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

// raw returns the raw value of name.
func (l attrList) raw(name string) (string, bool) {
	for _, a := range l {
		if a.name == name {
			return a.value, true
		}
	}
	return "", false
}

// quoted returns the value of a quoted-string attribute without its
// quotes; ok is false when name is absent or not quoted.
func (l attrList) quoted(name string) (string, bool) {
	v, ok := l.raw(name)
	if !ok || len(v) < 2 || v[0] != '"' {
		return "", false
	}
	return v[1 : len(v)-1], true
}

// with returns a copy of l where name has the raw value: replaced in place
// when present, appended otherwise.
func (l attrList) with(name, raw string) attrList {
	out := make(attrList, 0, len(l)+1)
	found := false
	for _, a := range l {
		if a.name == name {
			if found {
				continue // a duplicate is invalid; keep one
			}
			a.value, found = raw, true
		}
		out = append(out, a)
	}
	if !found {
		out = append(out, attr{name: name, value: raw})
	}
	return out
}

func (l attrList) String() string {
	var b strings.Builder
	for i, a := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(a.name)
		b.WriteByte('=')
		b.WriteString(a.value)
	}
	return b.String()
}

// quote makes a quoted-string. Callers pass strings without double quotes
// or line breaks (checked where they come from).
func quote(s string) string { return `"` + s + `"` }
