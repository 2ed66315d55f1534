package steering

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseEdges(t *testing.T) {
	tests := []struct {
		name, edges, internal string
		want                  []Edge
		wantErr               string
	}{
		{
			name:  "public only",
			edges: "edge-1=http://localhost:8081, edge-2=http://localhost:8082",
			want:  []Edge{{Name: "edge-1", URL: "http://localhost:8081"}, {Name: "edge-2", URL: "http://localhost:8082"}},
		},
		{
			name:     "internal URLs for containers",
			edges:    "edge-1=http://localhost:8081,edge-2=http://localhost:8082",
			internal: "edge-2=http://edge-2:8082",
			want: []Edge{{Name: "edge-1", URL: "http://localhost:8081"},
				{Name: "edge-2", URL: "http://localhost:8082", InternalURL: "http://edge-2:8082"}},
		},
		{name: "empty", edges: " ", wantErr: "at least one"},
		{name: "no URL", edges: "edge-1", wantErr: "not name=URL"},
		{name: "twice", edges: "a=http://x,a=http://y", wantErr: "named twice"},
		{name: "internal for an unknown edge", edges: "a=http://x", internal: "b=http://y", wantErr: "not one of the edges"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseEdges(tc.edges, tc.internal)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseEdges = %v, %v; want an error about %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseEdges = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
