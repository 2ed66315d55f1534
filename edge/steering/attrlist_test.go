package steering

import (
	"errors"
	"testing"
)

func TestParseAttrList_ReadsValuesOfEveryKind(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    attrList
		wantErr bool
	}{
		{
			name: "variant",
			in:   `BANDWIDTH=1280000,AVERAGE-BANDWIDTH=1000000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25.000,AUDIO="audio"`,
			want: attrList{{"BANDWIDTH", "1280000"}, {"AVERAGE-BANDWIDTH", "1000000"}, {"CODECS", `"avc1.64001f,mp4a.40.2"`},
				{"RESOLUTION", "1280x720"}, {"FRAME-RATE", "25.000"}, {"AUDIO", `"audio"`}},
		},
		{name: "empty quoted value", in: `NAME=""`, want: attrList{{"NAME", `""`}}},
		{name: "hex", in: `IV=0x1234,METHOD=AES-128`, want: attrList{{"IV", "0x1234"}, {"METHOD", "AES-128"}}},
		{name: "trailing CR", in: "A=1\r", want: attrList{{"A", "1"}}},
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
			got, err := parseAttrList(tc.in)
			if tc.wantErr {
				if !errors.Is(err, errAttrSyntax) {
					t.Fatalf("parseAttrList(%q) = %v, %v; want a syntax error", tc.in, got, err)
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

func TestAttrList_WithReplacesInPlaceAndAppends(t *testing.T) {
	l, err := parseAttrList(`TYPE=AUDIO,GROUP-ID="audio",NAME="Stereo"`)
	if err != nil {
		t.Fatal(err)
	}
	got := l.with("GROUP-ID", `"audio@edge-1"`).with("URI", `"x"`).String()
	if want := `TYPE=AUDIO,GROUP-ID="audio@edge-1",NAME="Stereo",URI="x"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if l.String() != `TYPE=AUDIO,GROUP-ID="audio",NAME="Stereo"` {
		t.Errorf("with changed the original: %s", l)
	}
	if v, ok := l.quoted("NAME"); !ok || v != "Stereo" {
		t.Errorf("quoted(NAME) = %q, %v", v, ok)
	}
	if _, ok := l.quoted("TYPE"); ok {
		t.Error("quoted(TYPE) reported an enumerated value as quoted")
	}
}

// FuzzParseAttrList checks that whatever parses writes back to something
// that parses to the same list.
func FuzzParseAttrList(f *testing.F) {
	for _, seed := range []string{
		`BANDWIDTH=1,CODECS="a,b",RESOLUTION=1x1`,
		`URI="hls/x/iframes.m3u8",PATHWAY-ID="edge-1"`,
		`A=""`, `A="`, `=`, `A=1,`, "A=1\r", `A="x"y`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := parseAttrList(s)
		if err != nil {
			return
		}
		again, err := parseAttrList(l.String())
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
