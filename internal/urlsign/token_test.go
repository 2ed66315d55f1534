package urlsign

import (
	"encoding/base64"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var (
	testNow  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	key1     = Key{ID: "k1", Secret: []byte("0123456789abcdef-first")}
	key2     = Key{ID: "k2", Secret: []byte("0123456789abcdef-second")}
	testKeys = map[string][]byte{key1.ID: key1.Secret, key2.ID: key2.Secret}
)

func mustSign(t testing.TB, p Policy, k Key) string {
	t.Helper()
	tok, err := Sign(p, k)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestVerify(t *testing.T) {
	hour := time.Hour
	videoA := Policy{Resource: "/videos/aaaa/", Expires: testNow.Add(hour)}
	tests := []struct {
		name   string
		policy Policy
		key    Key
		path   string
		client string
		keys   map[string][]byte
		want   error
	}{
		{"prefix opens the master", videoA, key1, "/videos/aaaa/master.m3u8", "", nil, nil},
		{"prefix opens a segment deep below", videoA, key1, "/videos/aaaa/hls/720/video/12.m4s", "", nil, nil},
		{"second key verifies too", videoA, key2, "/videos/aaaa/r/720.mp4", "", nil, nil},
		{"another video", videoA, key1, "/videos/bbbb/master.m3u8", "", nil, ErrWrongPath},
		{"a longer ID with the same start", videoA, key1, "/videos/aaaab/master.m3u8", "", nil, ErrWrongPath},
		{"dot-dot out of the prefix", videoA, key1, "/videos/aaaa/../bbbb/master.m3u8", "", nil, ErrWrongPath},
		{"double slash", videoA, key1, "/videos/aaaa//master.m3u8", "", nil, ErrWrongPath},
		{"dot segment", videoA, key1, "/videos/aaaa/./master.m3u8", "", nil, ErrWrongPath},
		{"the prefix itself", videoA, key1, "/videos/aaaa/", "", nil, nil},
		{"wildcard prefix", Policy{Resource: "/videos/aaaa/r/*", Expires: testNow.Add(hour)}, key1, "/videos/aaaa/r/720.mp4", "", nil, nil},
		{"wildcard prefix elsewhere", Policy{Resource: "/videos/aaaa/r/*", Expires: testNow.Add(hour)}, key1, "/videos/aaaa/master.m3u8", "", nil, ErrWrongPath},
		{"exact path", Policy{Resource: "/videos/aaaa/master.m3u8", Expires: testNow.Add(hour)}, key1, "/videos/aaaa/master.m3u8", "", nil, nil},
		{"exact path is not a prefix", Policy{Resource: "/videos/aaaa/master.m3u8", Expires: testNow.Add(hour)}, key1, "/videos/aaaa/master.m3u8x", "", nil, ErrWrongPath},
		{"expired", Policy{Resource: "/videos/aaaa/", Expires: testNow.Add(-time.Second)}, key1, "/videos/aaaa/master.m3u8", "", nil, ErrExpired},
		{"expires exactly now", Policy{Resource: "/videos/aaaa/", Expires: testNow}, key1, "/videos/aaaa/master.m3u8", "", nil, ErrExpired},
		{"not yet valid", Policy{Resource: "/videos/aaaa/", NotBefore: testNow.Add(time.Minute), Expires: testNow.Add(hour)}, key1, "/videos/aaaa/master.m3u8", "", nil, ErrNotYetValid},
		{"valid from now", Policy{Resource: "/videos/aaaa/", NotBefore: testNow, Expires: testNow.Add(hour)}, key1, "/videos/aaaa/master.m3u8", "", nil, nil},
		{"client in CIDR", Policy{Resource: "/videos/aaaa/", Expires: testNow.Add(hour), Client: netip.MustParsePrefix("192.0.2.0/24")}, key1, "/videos/aaaa/x", "192.0.2.77", nil, nil},
		{"IPv4-mapped client in CIDR", Policy{Resource: "/videos/aaaa/", Expires: testNow.Add(hour), Client: netip.MustParsePrefix("192.0.2.0/24")}, key1, "/videos/aaaa/x", "::ffff:192.0.2.77", nil, nil},
		{"client outside CIDR", Policy{Resource: "/videos/aaaa/", Expires: testNow.Add(hour), Client: netip.MustParsePrefix("192.0.2.0/24")}, key1, "/videos/aaaa/x", "198.51.100.1", nil, ErrWrongClient},
		{"client unknown", Policy{Resource: "/videos/aaaa/", Expires: testNow.Add(hour), Client: netip.MustParsePrefix("2001:db8::1/128")}, key1, "/videos/aaaa/x", "", nil, ErrWrongClient},
		{"single IPv6 client", Policy{Resource: "/videos/aaaa/", Expires: testNow.Add(hour), Client: netip.MustParsePrefix("2001:db8::1/128")}, key1, "/videos/aaaa/x", "2001:db8::1", nil, nil},
		{"retired key", videoA, key1, "/videos/aaaa/master.m3u8", "", map[string][]byte{key2.ID: key2.Secret}, ErrUnknownKey},
		{"same key ID, other secret", videoA, key1, "/videos/aaaa/master.m3u8", "", map[string][]byte{key1.ID: key2.Secret}, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := mustSign(t, tt.policy, tt.key)
			keys := tt.keys
			if keys == nil {
				keys = testKeys
			}
			var ip netip.Addr
			if tt.client != "" {
				ip = netip.MustParseAddr(tt.client)
			}
			p, err := Verify(tok, tt.path, ip, testNow, keys)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify: %v, want %v", err, tt.want)
			}
			if err == nil && (p.Resource != tt.policy.Resource || !p.Expires.Equal(tt.policy.Expires) || p.KeyID != tt.key.ID) {
				t.Fatalf("policy %+v, signed %+v with %s", p, tt.policy, tt.key.ID)
			}
		})
	}
}

func TestVerify_RefusesMalformedTokens(t *testing.T) {
	valid := mustSign(t, Policy{Resource: "/videos/aaaa/", Expires: testNow.Add(time.Hour)}, key1)
	enc, sig, _ := strings.Cut(valid, ".")
	raw := func(policyJSON string) string {
		// Correctly signed junk: the signature matches, the content does not.
		return base64.RawURLEncoding.EncodeToString([]byte(policyJSON)) + "." +
			base64.RawURLEncoding.EncodeToString(mac(key1.Secret, []byte(policyJSON)))
	}
	tests := []struct {
		name, token string
		want        error
	}{
		{"empty", "", ErrMalformed},
		{"no dot", enc + sig, ErrMalformed},
		{"empty policy", "." + sig, ErrMalformed},
		{"empty signature", enc + ".", ErrMalformed},
		{"three parts", valid + ".x", ErrMalformed},
		{"padded base64", enc + "=." + sig, ErrMalformed},
		{"standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(enc) + "." + sig + "+", ErrMalformed},
		{"short signature", enc + "." + sig[:20], ErrMalformed},
		{"too long", strings.Repeat("a", MaxTokenLen+1), ErrMalformed},
		{"policy not JSON", base64.RawURLEncoding.EncodeToString([]byte("hello")) + "." + sig, ErrMalformed},
		{"unknown field", raw(`{"kid":"k1","res":"/videos/aaaa/","exp":9999999999,"admin":true}`), ErrMalformed},
		{"trailing bytes", raw(`{"kid":"k1","res":"/videos/aaaa/","exp":9999999999} `), ErrMalformed},
		{"relative resource", raw(`{"kid":"k1","res":"videos/aaaa/","exp":9999999999}`), ErrMalformed},
		{"no expiry", raw(`{"kid":"k1","res":"/videos/aaaa/"}`), ErrMalformed},
		{"bad client", raw(`{"kid":"k1","res":"/videos/aaaa/","exp":9999999999,"ip":"nope"}`), ErrMalformed},
		{"no key ID", raw(`{"res":"/videos/aaaa/","exp":9999999999}`), ErrUnknownKey},
		{"flipped signature bit", enc + "." + flipLast(sig), ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Verify(tt.token, "/videos/aaaa/master.m3u8", netip.Addr{}, testNow, testKeys); !errors.Is(err, tt.want) {
				t.Fatalf("Verify: %v, want %v", err, tt.want)
			}
		})
	}
}

// flipLast changes the last character of a base64url string to another
// that still decodes (strictly) to the same length.
func flipLast(s string) string {
	last := s[len(s)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'E'
	}
	return s[:len(s)-1] + string(repl)
}

func TestSign_RefusesWhatVerifyWouldRefuse(t *testing.T) {
	exp := testNow.Add(time.Hour)
	tests := []struct {
		name string
		p    Policy
		k    Key
	}{
		{"short secret", Policy{Resource: "/v/", Expires: exp}, Key{ID: "k", Secret: []byte("short")}},
		{"empty key ID", Policy{Resource: "/v/", Expires: exp}, Key{Secret: key1.Secret}},
		{"key ID with a quote", Policy{Resource: "/v/", Expires: exp}, Key{ID: `k"1`, Secret: key1.Secret}},
		{"relative resource", Policy{Resource: "v/", Expires: exp}, key1},
		{"no expiry", Policy{Resource: "/v/"}, key1},
		{"not-before after expiry", Policy{Resource: "/v/", Expires: exp, NotBefore: exp.Add(time.Second)}, key1},
		{"huge resource", Policy{Resource: "/" + strings.Repeat("a", 600), Expires: exp}, key1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tok, err := Sign(tt.p, tt.k); err == nil {
				t.Fatalf("signed %q", tok)
			}
		})
	}
}

func TestSign_IsDeterministicAndShort(t *testing.T) {
	p := Policy{Resource: "/videos/abcdefghijklmnop/", Expires: testNow.Add(6 * time.Hour), NotBefore: testNow,
		Client: netip.MustParsePrefix("2001:db8:1234:5678::/64")}
	a, b := mustSign(t, p, key1), mustSign(t, p, key1)
	if a != b {
		t.Fatalf("two signatures of one policy differ:\n%s\n%s", a, b)
	}
	if len(a) > 300 {
		t.Fatalf("token is %d bytes: %s", len(a), a)
	}
	if strings.ContainsAny(a, "+/=?&#% ") {
		t.Fatalf("token %q is not URL- and cookie-safe", a)
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		resource, path string
		want           bool
	}{
		{"/videos/a/", "/videos/a/master.m3u8", true},
		{"/videos/a/", "/videos/a", false},
		{"/videos/a/", "/videos/ab/master.m3u8", false},
		{"/videos/a*", "/videos/ab/master.m3u8", true},
		{"/videos/a/", "/videos/a/../b/x", false},
		{"/videos/a/", "/videos/a/x/..", false},
		{"/videos/a/", "videos/a/x", false},
		{"/videos/a/x", "/videos/a/x", true},
		{"/videos/a/x", "/videos/a/x/", false},
		{"/*", "/anything/at/all", true},
		{"/*", "/a//b", false},
	}
	for _, tt := range tests {
		if got := Matches(tt.resource, tt.path); got != tt.want {
			t.Errorf("Matches(%q, %q) = %v, want %v", tt.resource, tt.path, got, tt.want)
		}
	}
}

func TestCheckKey(t *testing.T) {
	if err := CheckKey("2026-03.main_key", []byte("0123456789abcdef")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", strings.Repeat("k", MaxKeyIDLen+1), "a b", "a:b", "a,b"} {
		if CheckKey(id, []byte("0123456789abcdef")) == nil {
			t.Errorf("key ID %q accepted", id)
		}
	}
	if CheckKey("k", make([]byte, MinKeyLen-1)) == nil {
		t.Error("short secret accepted")
	}
}

// FuzzVerify checks the verifier on arbitrary tokens and on single-byte
// mutations of valid ones:
//   - it never panics, and every error is one of the sentinels;
//   - a token that verifies is exactly the token Sign makes of the policy
//     it yields with the key it names, so only a holder of a known key can
//     have made it;
//   - a mutated valid token verifies only if the mutation changed nothing.
func FuzzVerify(f *testing.F) {
	exp := testNow.Add(time.Hour)
	valid := []string{
		mustSign(f, Policy{Resource: "/videos/aaaa/", Expires: exp}, key1),
		mustSign(f, Policy{Resource: "/videos/aaaa/*", Expires: exp, NotBefore: testNow.Add(-time.Minute)}, key2),
		mustSign(f, Policy{Resource: "/videos/aaaa/master.m3u8", Expires: exp, Client: netip.MustParsePrefix("192.0.2.0/24")}, key1),
	}
	for i, tok := range valid {
		f.Add(tok, uint16(i*7), byte(1))
	}
	f.Add("", uint16(0), byte(0))
	f.Add("a.b", uint16(1), byte(0x20))
	f.Add("eyJraWQiOiJrMSJ9.AAAA", uint16(3), byte(0x80))
	sentinels := []error{ErrMalformed, ErrUnknownKey, ErrBadSignature, ErrExpired, ErrNotYetValid, ErrWrongPath, ErrWrongClient}
	client := netip.MustParseAddr("192.0.2.9")
	check := func(t *testing.T, token string) bool {
		p, err := Verify(token, "/videos/aaaa/master.m3u8", client, testNow, testKeys)
		if err != nil {
			known := false
			for _, s := range sentinels {
				known = known || errors.Is(err, s)
			}
			if !known {
				t.Fatalf("Verify(%q): error %v is none of the sentinels", token, err)
			}
			return false
		}
		again, serr := Sign(p, Key{ID: p.KeyID, Secret: testKeys[p.KeyID]})
		if serr != nil || again != token {
			t.Fatalf("token %q verified but is not what Sign makes of its policy (%q, %v)", token, again, serr)
		}
		return true
	}
	f.Fuzz(func(t *testing.T, token string, pos uint16, flip byte) {
		check(t, token)
		orig := valid[int(pos)%len(valid)]
		b := []byte(orig)
		b[int(pos)%len(b)] ^= flip
		if mutated := string(b); check(t, mutated) && mutated != orig {
			t.Fatalf("mutated token %q verifies (from %q)", mutated, orig)
		}
	})
}
