package config

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Problem is one mistake in a deployment file, said where it is.
type Problem struct {
	File string
	// Line is 0 when the key is not in the file (a required value left
	// out).
	Line int
	// Key is the setting's path, e.g. "edges[1].url".
	Key string
	Msg string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	if p.Key != "" {
		b.WriteString(": " + p.Key)
	}
	return b.String() + ": " + p.Msg
}

// Problems are every mistake found in one file, one per line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Loaded is a deployment read from a file: the File, and where each key
// was, so later checks can point at the line.
type Loaded struct {
	*File
	// Path is the file's name as given.
	Path string
	// Vars are the environment variables the file refers to (${NAME}).
	Vars  []string
	lines map[string]int
}

// problem makes a Problem at key, with the key's line when the file has
// it.
func (l *Loaded) problem(key, format string, args ...any) Problem {
	return Problem{File: l.Path, Line: l.lines[key], Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Load reads a deployment file. Variables are expanded first
// (${NAME}, ${NAME:-default}; $$ is a dollar), from getenv (os.LookupEnv
// when nil). The error is Problems: every mistake, each with its line.
// With an error, the Loaded is nil, or (when only some values were
// refused) what could be read, for Check to find the other mistakes.
func Load(path string, getenv func(string) (string, bool)) (*Loaded, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, getenv)
}

// Parse is Load of bytes already read; name is used in messages.
func Parse(name string, data []byte, getenv func(string) (string, bool)) (*Loaded, error) {
	if getenv == nil {
		getenv = os.LookupEnv
	}
	l := &Loaded{File: Default(), Path: name, lines: map[string]int{}}
	text, vars, probs := expand(name, string(data), getenv)
	l.Vars = vars
	if len(probs) > 0 {
		return nil, probs
	}
	f, err := parser.ParseBytes([]byte(text), 0)
	if err != nil {
		return nil, Problems{l.fromYAML(err)}
	}
	var body ast.Node
	if len(f.Docs) > 1 {
		return nil, Problems{{File: name, Msg: "holds more than one YAML document; a deployment is one"}}
	}
	if len(f.Docs) == 1 {
		body = f.Docs[0].Body
	}
	if body == nil {
		err := l.validate()
		return l, err
	}
	w := walker{l: l}
	w.walk(body, reflect.TypeFor[File](), "")
	if len(w.probs) > 0 {
		// Decode what can be decoded anyway, so the caller can say what
		// else is wrong (a missing secret) in the same run: values the
		// walker refused keep their defaults.
		_ = yaml.NodeToValue(body, l.File, lenient[Duration](), lenient[OptDuration](), lenient[Size](), lenient[Bitrate](), lenient[Secret]())
		return l, w.probs
	}
	if err := yaml.NodeToValue(body, l.File, yaml.DisallowUnknownField()); err != nil {
		return nil, Problems{l.fromYAML(err)}
	}
	err = l.validate()
	return l, err
}

// lenient decodes a T and ignores its mistakes (already reported).
func lenient[T any, P interface {
	*T
	encoding.TextUnmarshaler
}]() yaml.DecodeOption {
	return yaml.CustomUnmarshaler(func(v *T, b []byte) error {
		var s string
		var t T
		if yaml.Unmarshal(b, &s) == nil && P(&t).UnmarshalText([]byte(s)) == nil {
			*v = t
		}
		return nil
	})
}

// fromYAML turns the YAML library's error into a Problem at its line.
func (l *Loaded) fromYAML(err error) Problem {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		return Problem{File: l.Path, Line: ye.GetToken().Position.Line, Msg: ye.GetMessage()}
	}
	return Problem{File: l.Path, Msg: err.Error()}
}

// expand replaces ${NAME} and ${NAME:-default} by the variable's value,
// line by line so lines keep their numbers. An unset variable without a
// default is a mistake: a deployment should not run on a silent "".
//
// A value never changes the file's structure: inside quotes it is
// escaped, and a value YAML would read as more than text (a secret with
// " #" or ": ") is quoted when it is the whole value of a key, refused
// when it is part of one. Comments are left as they are.
func expand(name, text string, getenv func(string) (string, bool)) (string, []string, Problems) {
	var out strings.Builder
	var probs Problems
	var vars []string
	for n, line := range strings.SplitAfter(text, "\n") {
		problem := func(format string, args ...any) {
			probs = append(probs, Problem{File: name, Line: n + 1, Msg: fmt.Sprintf(format, args...)})
		}
		var quote byte // the quote we are inside, 0 outside
		for i := 0; i < len(line); i++ {
			c := line[i]
			switch {
			case quote == 0 && c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
				out.WriteString(line[i:]) // a comment
				i = len(line)
				continue
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
			case quote == '"' && c == '\\' && i+1 < len(line):
				out.WriteString(line[i : i+2])
				i++
				continue
			case quote != 0 && c == quote:
				if quote == '\'' && i+1 < len(line) && line[i+1] == '\'' {
					out.WriteString("''")
					i++
					continue
				}
				quote = 0
			case c == '$' && i+1 < len(line) && line[i+1] == '$':
				out.WriteByte('$')
				i++
				continue
			case c == '$' && i+1 < len(line) && line[i+1] == '{':
				end := strings.IndexByte(line[i:], '}')
				if end < 0 {
					problem("${ is not closed by }")
					out.WriteString(line[i:])
					i = len(line)
					continue
				}
				ref := line[i+2 : i+end]
				whole := quote == 0 && wholeValue(line[:i], line[i+end+1:])
				i += end
				v, def, hasDef := strings.Cut(ref, ":-")
				if !validVarName(v) {
					problem("${%s}: %q is not a variable name", ref, v)
					continue
				}
				if !slices.Contains(vars, v) {
					vars = append(vars, v)
				}
				val, ok := getenv(v)
				switch {
				case ok && (val != "" || !hasDef):
				case hasDef:
					val = def
				default:
					problem("${%s} is not set; set it, or give a default as ${%s:-value}", v, v)
					continue
				}
				switch {
				case quote == '"':
					q, _ := json.Marshal(val)
					out.Write(q[1 : len(q)-1])
				case quote == '\'':
					out.WriteString(strings.ReplaceAll(val, "'", "''"))
				case plainSafe(val):
					out.WriteString(val)
				case whole:
					q, _ := json.Marshal(val)
					out.Write(q)
				default:
					problem("the value of %s holds characters YAML gives meaning to; put the whole value in double quotes: \"...${%s}...\"", v, v)
				}
				continue
			}
			out.WriteByte(c)
		}
	}
	return out.String(), vars, probs
}

// wholeValue says whether what stands before and after a ${...} leaves it
// the whole plain value of a key or list item.
func wholeValue(before, after string) bool {
	b := strings.TrimRight(before, " \t")
	a := strings.TrimLeft(after, " \t")
	endsKey := strings.HasSuffix(b, ":") || strings.HasSuffix(b, "- ") || b == "-" || strings.HasSuffix(b, " -")
	return endsKey && (a == "" || a == "\n" || a == "\r\n" || strings.HasPrefix(a, "#"))
}

// plainSafe says whether YAML reads s, written as it is in a plain value,
// as the same text (no comment, key, flow or block indicator in it).
func plainSafe(s string) bool {
	if s == "" {
		return true
	}
	if strings.ContainsAny(s, "\n\r\t\"'#,[]{}") || strings.Contains(s, ": ") || strings.HasSuffix(s, ":") ||
		strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return false
	}
	return !strings.ContainsAny(s[:1], "-?:&*!|>%@`")
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c != '_' && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// walker goes through the YAML tree beside the File type: it reports every
// unknown key and every bad duration, size or bitrate at once (the YAML
// library stops at the first), and records each key's line.
type walker struct {
	l     *Loaded
	probs Problems
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func (w *walker) add(line int, key, format string, args ...any) {
	w.probs = append(w.probs, Problem{File: w.l.Path, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (w *walker) walk(n ast.Node, t reflect.Type, path string) {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
			continue
		case *ast.TagNode:
			n = v.Value
			continue
		}
		break
	}
	if n == nil || n.Type() == ast.NullType || n.Type() == ast.AliasType {
		return
	}
	line := n.GetToken().Position.Line
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		s, ok := n.(ast.ScalarNode)
		if !ok {
			w.add(line, path, "must be a single value, not a list or a map")
			return
		}
		text := fmt.Sprint(s.GetValue())
		if err := reflect.New(t).Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(text)); err != nil {
			w.add(line, path, "%v", err)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		var pairs []*ast.MappingValueNode
		switch m := n.(type) {
		case *ast.MappingNode:
			pairs = m.Values
		case *ast.MappingValueNode:
			pairs = []*ast.MappingValueNode{m}
		default:
			w.add(line, path, "must be a map of settings")
			return
		}
		fields := yamlFields(t)
		for _, p := range pairs {
			key := strings.TrimSpace(p.Key.String())
			if p.Key.IsMergeKey() {
				continue
			}
			sub := join(path, key)
			w.l.lines[sub] = p.Key.GetToken().Position.Line
			f, ok := fields[key]
			if !ok {
				msg := fmt.Sprintf("unknown key %q", key)
				if near := nearest(key, fields); near != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", near)
				}
				w.add(p.Key.GetToken().Position.Line, sub, "%s", msg)
				continue
			}
			w.walk(p.Value, f.Type, sub)
		}
	case reflect.Slice:
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			w.add(line, path, "must be a list")
			return
		}
		for i, e := range seq.Values {
			sub := fmt.Sprintf("%s[%d]", path, i)
			if e != nil {
				w.l.lines[sub] = e.GetToken().Position.Line
			}
			w.walk(e, t.Elem(), sub)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlFields maps a struct's YAML keys to its fields.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	m := map[string]reflect.StructField{}
	for f := range t.Fields() {
		if key, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); key != "" && key != "-" {
			m[key] = f
		}
	}
	return m
}

// nearest is the known key closest to a mistyped one, if close enough to
// be a typo.
func nearest(key string, fields map[string]reflect.StructField) string {
	best, bestD := "", 3
	for k := range fields {
		if d := editDistance(key, k); d < bestD || (d == bestD && best != "" && k < best) {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Wrap is a deployment built in code (tests, the stack) ready for Check;
// name stands for the file in messages.
func Wrap(f *File, name string) *Loaded {
	return &Loaded{File: f, Path: name, lines: map[string]int{}}
}
