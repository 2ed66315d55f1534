package apikeys

import (
	"strings"
	"testing"
	"time"
)

func TestParse_RefusesWhatCreateNeverMakes(t *testing.T) {
	good := "sf_0123456789ab_" + strings.Repeat("A", 43)
	if _, _, ok := parse(good); !ok {
		t.Fatalf("%q refused", good)
	}
	for _, bad := range []string{"", "sf_", "sf_0123456789ab", "sf_0123456789ab_short", "sf_0123456789zz_" + strings.Repeat("A", 43),
		"xx_0123456789ab_" + strings.Repeat("A", 43), "sf_0123456789abc_" + strings.Repeat("A", 42)} {
		if _, _, ok := parse(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestAllow_SpendsTheBurstThenSaysHowLongToWait(t *testing.T) {
	k := &Key{RatePerMinute: 60}
	p := &Principal{Key: k}
	now := time.Unix(0, 0)
	if ok, _ := p.Allow(now); !ok {
		t.Fatal("no limiter: refused")
	}
	p.limiter = newLimiter(k)
	for i := range burst(k) {
		if ok, _ := p.Allow(now); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := p.Allow(now)
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("past the burst: %v, wait %s; want refused for about a second", ok, wait)
	}
	if ok, _ := p.Allow(now.Add(wait)); !ok {
		t.Fatal("refused after waiting as told")
	}
}

func FuzzAuthenticateParse(f *testing.F) {
	f.Add("sf_0123456789ab_" + strings.Repeat("A", 43))
	f.Add("Bearer sf__")
	f.Fuzz(func(t *testing.T, token string) {
		id, secret, ok := parse(token)
		if ok && token != "sf_"+id+"_"+secret {
			t.Fatalf("%q parsed as %q, %q", token, id, secret)
		}
	})
}
