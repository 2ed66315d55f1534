package webhooks

import (
	"strings"
	"testing"
	"time"
)

func TestSign_AReceiverVerifiesAndRefusesTamperingAndReplays(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"evt_1","type":"video.ready"}`)
	h := Sign("whsec_k", now, body)
	if !strings.HasPrefix(h, "t=1800000000,v1=") || len(h) != len("t=1800000000,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	if err := Verify(h, body, "whsec_k", 5*time.Minute, now.Add(time.Minute)); err != nil {
		t.Fatalf("a genuine delivery: %v", err)
	}
	for name, err := range map[string]error{
		"other body":   Verify(h, []byte(`{"id":"evt_2"}`), "whsec_k", 5*time.Minute, now),
		"other secret": Verify(h, body, "whsec_x", 5*time.Minute, now),
		"replayed":     Verify(h, body, "whsec_k", 5*time.Minute, now.Add(time.Hour)),
		"no v1":        Verify("t=1800000000", body, "whsec_k", 5*time.Minute, now),
		"garbage":      Verify("hello", body, "whsec_k", 5*time.Minute, now),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// Several v1 values (a secret being rotated): one match is enough.
	if err := Verify("t=1800000000,v1=00,"+h[len("t=1800000000,"):], body, "whsec_k", time.Minute, now); err != nil {
		t.Errorf("two signatures, one right: %v", err)
	}
}

func TestBackoff_DoublesToAnHour(t *testing.T) {
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second}
	for i, w := range want {
		if got := Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
	if Backoff(10) != time.Hour || Backoff(1000) != time.Hour {
		t.Error("the back-off is not capped at an hour")
	}
	total, n := time.Duration(0), 0
	for total < 24*time.Hour {
		n++
		total += Backoff(n)
	}
	t.Logf("attempts in 24 h: %d", n+1)
}

func FuzzVerify(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add(Sign("s", now, []byte("{}")), []byte("{}"))
	f.Add("t=,v1=", []byte(""))
	f.Add("t=99999999999999999999,v1=zz", []byte("x"))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		_ = Verify(header, body, "s", time.Minute, now) // never panics
		// A genuine signature of body never verifies another body.
		if other := append([]byte("x"), body...); Verify(Sign("s", now, body), other, "s", time.Minute, now) == nil {
			t.Fatalf("the signature of %q verified %q", body, other)
		}
	})
}
