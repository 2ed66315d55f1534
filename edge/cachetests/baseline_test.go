package cachetests

import (
	"reflect"
	"testing"
)

func TestParseResults_ReadsPassFailAndSetup(t *testing.T) {
	out := []byte(`[
 {"id": "a", "suite": "s", "name": "A", "kind": "required", "depends_on": [], "result": true},
 {"id": "b", "suite": "s", "name": "B", "kind": "optimal", "depends_on": [], "result": ["Assertion", "Response 2 does not come from cache"]},
 {"id": "c", "suite": "s", "name": "C", "kind": "required", "depends_on": [], "result": ["Setup", "retry"]},
 {"id": "d", "suite": "s", "name": "D", "kind": "check", "depends_on": [], "result": ["FetchError", "socket hang up"]}
]`)
	got, err := parseResults(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{
		{ID: "a", Suite: "s", Name: "A", Kind: KindRequired, Outcome: Pass},
		{ID: "b", Suite: "s", Name: "B", Kind: KindOptimal, Outcome: Fail, Message: "Response 2 does not come from cache"},
		{ID: "c", Suite: "s", Name: "C", Kind: KindRequired, Outcome: Setup, Message: "retry"},
		{ID: "d", Suite: "s", Name: "D", Kind: KindCheck, Outcome: Fail, Message: "socket hang up"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestParseResults_RefusesOtherShapes(t *testing.T) {
	for _, out := range []string{
		`{}`,
		`[{"id": "a", "kind": "required", "result": false}]`,
		`[{"id": "a", "kind": "required", "result": []}]`,
		`[{"id": "a", "kind": "required", "result": 1}]`,
	} {
		if _, err := parseResults([]byte(out)); err == nil {
			t.Errorf("parseResults(%s) accepted it", out)
		}
	}
}

func TestCompare_RegressionIsAPassLost(t *testing.T) {
	base := map[string]Outcome{"kept": Pass, "lost": Pass, "setup-lost": Pass, "gained": Fail, "still": Setup}
	now := []Result{
		{ID: "kept", Kind: KindRequired, Outcome: Pass},
		{ID: "lost", Kind: KindRequired, Outcome: Fail},
		{ID: "setup-lost", Kind: KindRequired, Outcome: Setup},
		{ID: "gained", Kind: KindRequired, Outcome: Pass},
		{ID: "still", Kind: KindRequired, Outcome: Fail}, // setup → fail is no regression
		{ID: "new", Kind: KindRequired, Outcome: Pass},
		{ID: "optional", Kind: KindOptimal, Outcome: Fail},
	}
	regressed, improved := Compare(base, now)
	ids := func(cs []Change) []string {
		var s []string
		for _, c := range cs {
			s = append(s, c.ID)
		}
		return s
	}
	if got, want := ids(regressed), []string{"lost", "setup-lost"}; !reflect.DeepEqual(got, want) {
		t.Errorf("regressed = %v, want %v", got, want)
	}
	if got, want := ids(improved), []string{"gained", "new"}; !reflect.DeepEqual(got, want) {
		t.Errorf("improved = %v, want %v", got, want)
	}
}

func TestSummarize_CountsSurrogateControlApart(t *testing.T) {
	s := Summarize([]Result{
		{Suite: "cc", Kind: KindRequired, Outcome: Pass},
		{Suite: "cc", Kind: KindRequired, Outcome: Setup},
		{Suite: "cc", Kind: KindOptimal, Outcome: Fail},
		{Suite: "cc", Kind: KindCheck, Outcome: Pass},
		{Suite: SuiteSurrogateControl, Kind: KindRequired, Outcome: Fail},
		{Suite: SuiteSurrogateControl, Kind: KindOptimal, Outcome: Pass},
	})
	want := Summary{
		Required:          Counts{Pass: 1, Setup: 1},
		Optional:          Counts{Fail: 1},
		Checks:            Counts{Pass: 1},
		SurrogateRequired: Counts{Fail: 1},
	}
	if s != want {
		t.Errorf("got %+v, want %+v", s, want)
	}
}

func TestStableOutcomes_KeepsOnlyWhatPassesEveryTime(t *testing.T) {
	first := []Result{
		{ID: "a", Kind: KindRequired, Outcome: Pass},
		{ID: "b", Kind: KindRequired, Outcome: Pass},
		{ID: "c", Kind: KindRequired, Outcome: Fail},
		{ID: "d", Kind: KindOptimal, Outcome: Pass},
	}
	later := []Result{
		{ID: "a", Kind: KindRequired, Outcome: Pass},
		{ID: "b", Kind: KindRequired, Outcome: Setup},
		{ID: "c", Kind: KindRequired, Outcome: Pass},
	}
	got := StableOutcomes(first, later)
	want := map[string]Outcome{"a": Pass, "b": Setup, "c": Fail}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
