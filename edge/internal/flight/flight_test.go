package flight

import (
	"sync"
	"sync/atomic"
	"testing"
)

type testFlight struct{ id int64 }

func TestGroup_ConcurrentJoinsShareOneFlight(t *testing.T) {
	var g Group[testFlight]
	var started atomic.Int64
	const n = 64
	got := make([]*testFlight, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			f, _ := g.Join("k", func() *testFlight {
				return &testFlight{id: started.Add(1)}
			})
			got[i] = f
		})
	}
	wg.Wait()
	if started.Load() != 1 {
		t.Fatalf("%d flights started for one key, want 1", started.Load())
	}
	for i, f := range got {
		if f != got[0] {
			t.Fatalf("joiner %d got flight %d, want %d", i, f.id, got[0].id)
		}
	}
}

func TestGroup_LeaveStartsAFreshFlight(t *testing.T) {
	var g Group[testFlight]
	first, started := g.Join("k", func() *testFlight { return &testFlight{id: 1} })
	if !started {
		t.Fatal("first join did not start a flight")
	}
	if !g.Running("k") {
		t.Fatal("flight not running after join")
	}
	g.Leave("k", first)
	if g.Running("k") {
		t.Fatal("flight still running after leave")
	}
	second, started := g.Join("k", func() *testFlight { return &testFlight{id: 2} })
	if !started || second == first {
		t.Fatal("join after leave reused the finished flight")
	}
}

func TestGroup_StaleLeaveKeepsNewerFlight(t *testing.T) {
	var g Group[testFlight]
	old, _ := g.Join("k", func() *testFlight { return &testFlight{id: 1} })
	g.Leave("k", old)
	newer, _ := g.Join("k", func() *testFlight { return &testFlight{id: 2} })
	g.Leave("k", old) // a late leave of the old flight must not drop the new one
	if f, started := g.Join("k", func() *testFlight { return &testFlight{id: 3} }); started || f != newer {
		t.Fatal("late leave of an old flight removed the newer one")
	}
}

func TestGroup_KeysAreIndependent(t *testing.T) {
	var g Group[testFlight]
	a, _ := g.Join("a", func() *testFlight { return &testFlight{id: 1} })
	b, startedB := g.Join("b", func() *testFlight { return &testFlight{id: 2} })
	if !startedB || a == b {
		t.Fatal("different keys shared a flight")
	}
}
