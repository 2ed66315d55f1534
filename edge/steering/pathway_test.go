package steering

import (
	"slices"
	"testing"
	"time"
)

func TestOrderPathways_RanksByHealthThenViewerThenRouterLatency(t *testing.T) {
	ms := func(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }
	// a, b, c in configuration order.
	edges := func(aUp bool, aRTT time.Duration, bUp bool, bRTT time.Duration, cUp bool, cRTT time.Duration) []edgeStatus {
		return []edgeStatus{
			{Name: "a", Index: 0, Up: aUp, RTT: aRTT},
			{Name: "b", Index: 1, Up: bUp, RTT: bRTT},
			{Name: "c", Index: 2, Up: cUp, RTT: cRTT},
		}
	}
	tests := []struct {
		name   string
		edges  []edgeStatus
		viewer viewerReport
		margin time.Duration
		want   []string
	}{
		{
			name:  "nothing measured: configuration order",
			edges: edges(true, 0, true, 0, true, 0),
			want:  []string{"a", "b", "c"},
		},
		{
			name:  "router latency",
			edges: edges(true, ms(30), true, ms(5), true, ms(12)),
			want:  []string{"b", "c", "a"},
		},
		{
			name:  "unmeasured by the router after measured",
			edges: edges(true, 0, true, ms(40), true, ms(12)),
			want:  []string{"c", "b", "a"},
		},
		{
			name:  "down edges last, in configuration order, whatever their latency",
			edges: edges(false, ms(1), true, ms(40), false, ms(2)),
			want:  []string{"b", "a", "c"},
		},
		{
			name:   "the viewer's latency beats the router's",
			edges:  edges(true, ms(30), true, ms(5), true, ms(12)),
			viewer: viewerReport{RTT: map[string]time.Duration{"a": ms(8), "b": ms(90), "c": ms(20)}},
			want:   []string{"a", "c", "b"},
		},
		{
			name:   "edges the viewer did not reach follow the ones it did",
			edges:  edges(true, ms(30), true, ms(1), true, ms(12)),
			viewer: viewerReport{RTT: map[string]time.Duration{"a": ms(50)}},
			want:   []string{"a", "b", "c"},
		},
		{
			name:   "a down edge stays last even when the viewer finds it fastest",
			edges:  edges(true, ms(30), false, ms(5), true, ms(12)),
			viewer: viewerReport{RTT: map[string]time.Duration{"a": ms(40), "b": ms(1), "c": ms(20)}},
			want:   []string{"c", "a", "b"},
		},
		{
			name:   "current pathway kept within the margin (viewer latency)",
			edges:  edges(true, 0, true, 0, true, 0),
			viewer: viewerReport{RTT: map[string]time.Duration{"a": ms(20), "b": ms(25), "c": ms(21)}, Current: "b"},
			margin: ms(10),
			want:   []string{"b", "a", "c"},
		},
		{
			name:   "current pathway left beyond the margin",
			edges:  edges(true, 0, true, 0, true, 0),
			viewer: viewerReport{RTT: map[string]time.Duration{"a": ms(20), "b": ms(31), "c": ms(21)}, Current: "b"},
			margin: ms(10),
			want:   []string{"a", "c", "b"},
		},
		{
			name:   "current pathway kept within the margin (router latency)",
			edges:  edges(true, ms(3), true, ms(9), true, ms(30)),
			viewer: viewerReport{Current: "b"},
			margin: ms(10),
			want:   []string{"b", "a", "c"},
		},
		{
			name:   "a current pathway that is down is left",
			edges:  edges(true, ms(3), false, ms(3), true, ms(30)),
			viewer: viewerReport{Current: "b"},
			margin: ms(10),
			want:   []string{"a", "c", "b"},
		},
		{
			name:   "a current pathway the viewer did not measure is left for one it did",
			edges:  edges(true, ms(3), true, ms(1), true, ms(30)),
			viewer: viewerReport{RTT: map[string]time.Duration{"a": ms(20)}, Current: "b"},
			margin: ms(10),
			want:   []string{"a", "b", "c"},
		},
		{
			name:   "negative margin: no stickiness",
			edges:  edges(true, ms(3), true, ms(4), true, ms(30)),
			viewer: viewerReport{Current: "b"},
			margin: -1,
			want:   []string{"a", "b", "c"},
		},
		{
			name:  "all down: configuration order",
			edges: edges(false, ms(9), false, ms(1), false, 0),
			want:  []string{"a", "b", "c"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := orderPathways(tc.edges, tc.viewer, tc.margin)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEdgeHealth_DownAfterFailuresUpAfterPasses(t *testing.T) {
	h := newEdgeHealth(Edge{Name: "e", URL: "http://e"}, 0)
	fail := errTest("refused")
	steps := []struct {
		err         error
		wantChanged bool
		wantUp      bool
	}{
		{fail, false, true}, {nil, false, true}, // a pass resets the count
		{fail, false, true}, {fail, false, true}, {fail, true, false}, // third in a row
		{fail, false, false}, {nil, false, false}, {fail, false, false}, // a failure resets the passes
		{nil, false, false}, {nil, true, true},
	}
	for i, s := range steps {
		changed, up := h.recordCheck(s.err, 3, 2)
		if changed != s.wantChanged || up != s.wantUp {
			t.Fatalf("step %d: changed=%v up=%v, want %v %v", i, changed, up, s.wantChanged, s.wantUp)
		}
	}
}

func TestEdgeHealth_MovingAverageOfRoundTrips(t *testing.T) {
	h := newEdgeHealth(Edge{Name: "e", URL: "http://e"}, 0)
	if st := h.status(); st.RTT != 0 {
		t.Fatalf("unmeasured edge reports RTT %v", st.RTT)
	}
	h.recordRTT(100*time.Millisecond, 0.5)
	h.recordRTT(50*time.Millisecond, 0.5)
	h.recordRTT(50*time.Millisecond, 0.5)
	if st := h.status(); st.RTT != 62500*time.Microsecond || st.Samples != 3 {
		t.Errorf("RTT %v after 3 samples (%d), want 62.5ms", st.RTT, st.Samples)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

func TestParseViewerRTT(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"12", 12 * time.Millisecond, true},
		{"0.4", 400 * time.Microsecond, true},
		{"0", time.Microsecond, true},
		{"", 0, false},
		{"-3", 0, false},
		{"NaN", 0, false},
		{"1e9", 0, false},
		{"fast", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseViewerRTT(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseViewerRTT(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
