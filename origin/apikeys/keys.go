package apikeys

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/streamfront/streamfront/origin/store"
)

// Scope is what a key may do.
type Scope string

// Scopes. Admin may do everything; Upload creates, edits and deletes
// videos (and live streams); Read sees private videos and usage.
const (
	Upload Scope = "upload"
	Read   Scope = "read"
	Admin  Scope = "admin"
)

// AllScopes lists the scopes.
var AllScopes = []Scope{Upload, Read, Admin}

const (
	prefix     = "apikeys/"
	maxKeys    = 1000
	maxName    = 100
	maxRecord  = 16 << 10
	idLen      = 12 // hex digits
	secretLen  = 32 // random bytes
	shownChars = len("sf_") + idLen
)

// Key is a stored key: everything but the secret.
type Key struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Prefix is the start of the key, enough to recognise it in a list.
	Prefix string  `json:"prefix"`
	Scopes []Scope `json:"scopes"`
	// RatePerMinute bounds the key's requests per origin process; 0 is
	// no limit.
	RatePerMinute int       `json:"rate_per_minute"`
	CreatedAt     time.Time `json:"created_at"`
	Hash          string    `json:"hash,omitempty"`
}

// Can reports whether the key has scope s (admin has every scope).
func (k *Key) Can(s Scope) bool {
	return slices.Contains(k.Scopes, Admin) || slices.Contains(k.Scopes, s)
}

// Config builds Keys.
type Config struct {
	Store *store.Store // required
	// Root is the deployment's own key: admin, no rate limit.
	Root string
	// CacheFor is how long a key's record is trusted without reading it
	// again; it defaults to 30 s.
	CacheFor time.Duration
	Now      func() time.Time
}

// Keys authenticates requests and manages keys.
type Keys struct {
	cfg  Config
	root *Key
	mu   sync.Mutex
	seen map[string]cached // by key ID
}

type cached struct {
	key     *Key // nil: no such key (revoked or never made)
	at      time.Time
	limiter *rate.Limiter
}

// New builds Keys.
func New(cfg Config) *Keys {
	if cfg.CacheFor == 0 {
		cfg.CacheFor = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Keys{cfg: cfg, root: &Key{ID: "root", Name: "the deployment's key", Scopes: []Scope{Admin}}, seen: map[string]cached{}}
}

// Errors of Authenticate.
var (
	ErrNoKey  = errors.New("apikeys: no key")
	ErrBadKey = errors.New("apikeys: not a valid key")
)

// Principal is an authenticated caller.
type Principal struct {
	*Key
	limiter *rate.Limiter
}

// Allow takes one request from the key's budget; when it is spent, it
// says how long until the next request is allowed.
func (p *Principal) Allow(now time.Time) (bool, time.Duration) {
	if p.limiter == nil {
		return true, 0
	}
	r := p.limiter.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Authenticate finds the key of an Authorization header ("Bearer <key>").
func (k *Keys) Authenticate(ctx context.Context, authorization string) (*Principal, error) {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || token == "" {
		return nil, ErrNoKey
	}
	if k.cfg.Root != "" && subtle.ConstantTimeCompare([]byte(token), []byte(k.cfg.Root)) == 1 {
		return &Principal{Key: k.root}, nil
	}
	id, secret, ok := parse(token)
	if !ok {
		return nil, ErrBadKey
	}
	c, err := k.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.key == nil || subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(c.key.Hash)) != 1 {
		return nil, ErrBadKey
	}
	return &Principal{Key: c.key, limiter: c.limiter}, nil
}

func parse(token string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(token, "sf_")
	if !ok {
		return "", "", false
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || !validID(id) || len(secret) != base64.RawURLEncoding.EncodedLen(secretLen) {
		return "", "", false
	}
	return id, secret, true
}

func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

func recordKey(id string) string { return prefix + id + ".json" }

// lookup reads a key's record, or its absence, at most once per CacheFor.
func (k *Keys) lookup(ctx context.Context, id string) (cached, error) {
	now := k.cfg.Now()
	k.mu.Lock()
	c, ok := k.seen[id]
	k.mu.Unlock()
	if ok && now.Sub(c.at) < k.cfg.CacheFor {
		return c, nil
	}
	key, err := k.read(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return cached{}, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	// The limiter survives a re-read, so a refresh does not refill it.
	prev := k.seen[id]
	c = cached{key: key, at: now, limiter: prev.limiter}
	if key != nil && key.RatePerMinute > 0 && (c.limiter == nil || c.limiter.Burst() != burst(key)) {
		c.limiter = newLimiter(key)
	}
	if len(k.seen) >= 4*maxKeys { // bounded: keys and misses of this window
		clear(k.seen)
	}
	k.seen[id] = c
	return c, nil
}

func newLimiter(k *Key) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(float64(k.RatePerMinute)/60), burst(k))
}

// burst lets a key spend a tenth of its minute at once (at least one).
func burst(k *Key) int { return max(1, k.RatePerMinute/10) }

func (k *Keys) read(ctx context.Context, id string) (*Key, error) {
	body, _, err := k.cfg.Store.Get(ctx, recordKey(id), maxRecord)
	if err != nil {
		return nil, err
	}
	var key Key
	if err := json.Unmarshal(body, &key); err != nil {
		return nil, fmt.Errorf("apikeys: record %s: %w", id, err)
	}
	return &key, nil
}

// InputError is a request the caller must change; its text says how.
type InputError struct{ msg string }

func (e *InputError) Error() string { return e.msg }

// ErrNotFound means no key has that ID.
var ErrNotFound = errors.New("apikeys: no such key")

// Create makes a key and returns it with its secret, the only time the
// secret is shown.
func (k *Keys) Create(ctx context.Context, name string, scopes []Scope, ratePerMinute int) (*Key, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxName {
		return nil, "", &InputError{"name must be text of 1 to 100 characters, to tell the key apart later."}
	}
	if len(scopes) == 0 {
		return nil, "", &InputError{`scopes must list at least one of "upload", "read", "admin".`}
	}
	for _, s := range scopes {
		if !slices.Contains(AllScopes, s) {
			return nil, "", &InputError{fmt.Sprintf(`%q is not a scope; use "upload", "read" or "admin".`, s)}
		}
	}
	if ratePerMinute < 0 || ratePerMinute > 1_000_000 {
		return nil, "", &InputError{"rate_per_minute must be from 0 (no limit) to 1000000."}
	}
	existing, err := k.List(ctx)
	if err != nil {
		return nil, "", err
	}
	if len(existing) >= maxKeys {
		return nil, "", &InputError{fmt.Sprintf("there are %d keys already, the most allowed; revoke some first.", maxKeys)}
	}
	idb := make([]byte, idLen/2)
	sec := make([]byte, secretLen)
	_, _ = rand.Read(idb) // never fails (crypto/rand)
	_, _ = rand.Read(sec)
	id, secret := hex.EncodeToString(idb), base64.RawURLEncoding.EncodeToString(sec)
	token := "sf_" + id + "_" + secret
	key := &Key{ID: id, Name: name, Prefix: token[:shownChars], Scopes: slices.Compact(slices.Sorted(slices.Values(scopes))),
		RatePerMinute: ratePerMinute, CreatedAt: k.cfg.Now().UTC(), Hash: hashSecret(secret)}
	body, _ := json.Marshal(key)
	if _, err := k.cfg.Store.PutIfAbsent(ctx, recordKey(id), body, "application/json"); err != nil {
		return nil, "", err
	}
	key.Hash = ""
	return key, token, nil
}

// List is every key (without hashes), oldest first.
func (k *Keys) List(ctx context.Context) ([]*Key, error) {
	out := []*Key{}
	after := ""
	for {
		names, more, err := k.cfg.Store.ListPage(ctx, prefix, after, "", 1000)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			key, err := k.read(ctx, strings.TrimSuffix(strings.TrimPrefix(n, prefix), ".json"))
			if errors.Is(err, store.ErrNotFound) {
				continue // revoked meanwhile
			}
			if err != nil {
				return nil, err
			}
			key.Hash = ""
			out = append(out, key)
		}
		if !more || len(names) == 0 {
			break
		}
		after = names[len(names)-1]
	}
	slices.SortFunc(out, func(a, b *Key) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// Revoke deletes a key; this process refuses it at once, others within
// CacheFor.
func (k *Keys) Revoke(ctx context.Context, id string) error {
	if !validID(id) {
		return ErrNotFound
	}
	if _, err := k.read(ctx, id); errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	if err := k.cfg.Store.Delete(ctx, recordKey(id)); err != nil {
		return err
	}
	k.mu.Lock()
	k.seen[id] = cached{at: k.cfg.Now()}
	k.mu.Unlock()
	return nil
}
