package hlsattr

import (
	"errors"
	"testing"
)

func TestParse_ReadsValuesOfEveryKind(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    List
		wantErr bool
	}{
		{
			name: "variant",
			in:   `BANDWIDTH=1280000,AVERAGE-BANDWIDTH=1000000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25.000,AUDIO="audio"`,
			want: List{{"BANDWIDTH", "1280000"}, {"AVERAGE-BANDWIDTH", "1000000"}, {"CODECS", `"avc1.64001f,mp4a.40.2"`},
				{"RESOLUTION", "1280x720"}, {"FRAME-RATE", "25.000"}, {"AUDIO", `"audio"`}},
		},
		{name: "empty quoted value", in: `NAME=""`, want: List{{"NAME", `""`}}},
		{name: "hex", in: `IV=0x1234,METHOD=AES-128`, want: List{{"IV", "0x1234"}, {"METHOD", "AES-128"}}},
		{name: "trailing CR", in: "A=1\r", want: List{{"A", "1"}}},
		{name: "empty", in: "", want: nil},
		{name: "unterminated quote", in: `URI="abc`, wantErr: true},
		{name: "missing value", in: `A=,B=2`, wantErr: true},
		{name: "no name", in: `=1`, wantErr: true},
		{name: "lower-case name", in: `uri="x"`, wantErr: true},
		{name: "trailing comma", in: `A=1,`, wantErr: true},
		{name: "junk after quote", in: `A="x"y`, wantErr: true},
		{name: "quote inside bare value", in: `A=x"y"`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrSyntax) {
					t.Fatalf("Parse(%q) = %v, %v; want a syntax error", tc.in, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("attr %d: got %v, want %v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestList_WithReplacesInPlaceAndAppends(t *testing.T) {
	l, err := Parse(`TYPE=AUDIO,GROUP-ID="audio",NAME="Stereo"`)
	if err != nil {
		t.Fatal(err)
	}
	got := l.With("GROUP-ID", `"audio@edge-1"`).With("URI", `"x"`).String()
	if want := `TYPE=AUDIO,GROUP-ID="audio@edge-1",NAME="Stereo",URI="x"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if l.String() != `TYPE=AUDIO,GROUP-ID="audio",NAME="Stereo"` {
		t.Errorf("with changed the original: %s", l)
	}
	if v, ok := l.Quoted("NAME"); !ok || v != "Stereo" {
		t.Errorf("quoted(NAME) = %q, %v", v, ok)
	}
	if _, ok := l.Quoted("TYPE"); ok {
		t.Error("quoted(TYPE) reported an enumerated value as quoted")
	}
}

// FuzzParse checks that whatever parses writes back to something that
// parses to the same list, and that MapQuoted agrees with Parse: it
// changes nothing when its function changes nothing, and on a valid list
// it changes exactly the values Parse reads as that attribute's.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`BANDWIDTH=1,CODECS="a,b",RESOLUTION=1x1`,
		`URI="hls/x/iframes.m3u8",PATHWAY-ID="edge-1"`,
		`A=""`, `A="`, `=`, `A=1,`, "A=1\r", `A="x"y`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(l.String())
		if err != nil {
			t.Fatalf("%q parsed, but its encoding %q does not: %v", s, l.String(), err)
		}
		if len(again) != len(l) {
			t.Fatalf("round trip changed %v into %v", l, again)
		}
		for i := range l {
			if again[i] != l[i] {
				t.Fatalf("round trip changed %v into %v", l[i], again[i])
			}
		}
	})
}

func FuzzMapQuoted(f *testing.F) {
	for _, seed := range []string{
		`URI="init.mp4",BYTERANGE="1@0"`, `TITLE="URI=\"x",URI="a"`, `URI="a",URI="b"`, ` URI = "a" , B=1`, `TITLE="a,URI=b",URI="c"`,
		`A=1,URI="x`, `URI="x"y,URI="z"`, `uri="x",URI="y"`, "URI=\"a\"\r",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := MapQuoted(s, "URI", func(v string) string { return v }); got != s {
			t.Fatalf("the identity changed %q into %q", s, got)
		}
		mark := func(v string) string { return v + "?t" }
		mapped := MapQuoted(s, "URI", mark)
		l, err := Parse(s)
		if err != nil {
			return
		}
		got, err := Parse(mapped)
		if err != nil {
			t.Fatalf("%q parses, its mapping %q does not: %v", s, mapped, err)
		}
		if len(got) != len(l) {
			t.Fatalf("mapping %q gave %q", s, mapped)
		}
		for i, a := range l {
			want := a
			if a.Name == "URI" && len(a.Value) >= 2 && a.Value[0] == '"' {
				want.Value = Quote(mark(a.Value[1 : len(a.Value)-1]))
			}
			if got[i] != want {
				t.Fatalf("mapping %q: attribute %d is %v, want %v", s, i, got[i], want)
			}
		}
	})
}

func TestMapQuoted(t *testing.T) {
	add := func(v string) string { return v + "?token=t" }
	for _, tc := range []struct{ in, want string }{
		{`URI="init.mp4",BYTERANGE="720@0"`, `URI="init.mp4?token=t",BYTERANGE="720@0"`},
		{`TITLE="a,URI=\"b",URI="c.m3u8"`, `TITLE="a,URI=\"b",URI="c.m3u8"`}, // HLS has no escapes: the list breaks at b"
		{`TITLE="a,URI=b",URI="c.m3u8"`, `TITLE="a,URI=b",URI="c.m3u8?token=t"`},
		{` URI = "a" ,B=1`, ` URI = "a" ,B=1`}, // a quoted value must follow '=' at once
		{`URI="a", B=1 `, `URI="a?token=t", B=1 `},
		{`URI="a",X="unterminated`, `URI="a?token=t",X="unterminated`}, // rewritten up to where the list breaks
		{`X=bad"value,URI="a"`, `X=bad"value,URI="a"`},
		{`NO-URI-HERE=1`, `NO-URI-HERE=1`},
	} {
		if got := MapQuoted(tc.in, "URI", add); got != tc.want {
			t.Errorf("MapQuoted(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
