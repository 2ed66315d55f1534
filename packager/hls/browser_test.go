package hls

import "testing"

func TestBrowserDecodable(t *testing.T) {
	cases := []struct {
		codecs string
		want   bool
	}{
		{"avc1.640028,mp4a.40.2", true},
		{"avc1.42e01e", true},           // Constrained Baseline
		{"avc1.4d401f,mp4a.40.5", true}, // Main, HE-AAC
		{"avc1.58a01e", true},           // Extended
		{"avc3.640028", true},
		{"AVC1.64001F", true},
		{"avc1.640028, mp4a.40.29", true}, // HE-AACv2, space after the comma
		{"mp4a.40.2", true},               // audio-only rendition
		{"mp4a.40.34", true},              // MP3
		{"mp4a.69", true},
		{"mp4a.6B", true},
		{"opus", true},
		{"flac", true},
		{"avc1.6e0028,mp4a.40.2", false}, // High 10
		{"avc1.7a0028", false},           // High 4:2:2
		{"avc1.f40028", false},           // High 4:4:4 Predictive
		{"avc1.640028,ac-3", false},
		{"avc1.640028,ec-3", false},
		{"hvc1.1.6.L93.B0,mp4a.40.2", false},
		{"hev1.2.4.L120.B0", false},
		{"vp09.00.10.08", false},
		{"mp4a.40.1", false}, // AAC Main
		{"avc1", false},
		{"avc1.64", false},
		{"avc1.zz0028", false},
		{"avc1.640028,", false}, // an empty entry
		{"", false},
	}
	for _, c := range cases {
		if got := BrowserDecodable(c.codecs); got != c.want {
			t.Errorf("BrowserDecodable(%q) = %v, want %v", c.codecs, got, c.want)
		}
	}
}

func TestLanguageTag(t *testing.T) {
	for in, want := range map[string]string{"fra": "fr", "fre": "fr", "ger": "de", "eng": "en", "und": "", "": "", "zz9": ""} {
		if got := LanguageTag(in); got != want {
			t.Errorf("LanguageTag(%q) = %q, want %q", in, got, want)
		}
	}
}
