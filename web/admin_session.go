package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// The admin's sessions live in this process's memory: the cookie holds an
// opaque random ID, and only the server knows which API key it stands for.
// So the key never reaches the browser after the sign-in form, and a
// stolen cookie stops working when it expires, at sign-out, or when the
// site restarts. The price: several site replicas behind a balancer do not
// share sessions (an operator signs in again when sent to another), which
// suits a dashboard used by a few people.

const (
	// sessionCookie is the cookie's name. The __Host- prefix (only when
	// the site is served over HTTPS) makes browsers refuse it unless it is
	// Secure, host-only and for Path=/.
	sessionCookie       = "sf_admin"
	sessionCookieSecure = "__Host-sf_admin"
	// sessionTTL is how long a session lasts from sign-in; there is no
	// sliding renewal, so a forgotten session ends the same day.
	sessionTTL = 12 * time.Hour
	// maxSessions bounds the store, so sign-ins in a loop cannot exhaust
	// memory; past it the oldest session is dropped.
	maxSessions = 10_000
)

// session is one signed-in operator.
type session struct {
	id      string
	apiKey  string
	csrf    string // the token every admin form must carry
	expires time.Time
}

// sessionStore maps session IDs to sessions. It is safe for concurrent use.
type sessionStore struct {
	now func() time.Time

	mu       sync.Mutex
	sessions map[string]*session
}

func newSessionStore(now func() time.Time) *sessionStore {
	return &sessionStore{now: now, sessions: map[string]*session{}}
}

// create starts a session for apiKey.
func (st *sessionStore) create(apiKey string) (*session, error) {
	id, err := randomToken()
	if err != nil {
		return nil, err
	}
	csrf, err := randomToken()
	if err != nil {
		return nil, err
	}
	now := st.now()
	s := &session{id: id, apiKey: apiKey, csrf: csrf, expires: now.Add(sessionTTL)}

	st.mu.Lock()
	defer st.mu.Unlock()
	st.sweepLocked(now)
	if len(st.sessions) >= maxSessions {
		var oldest *session
		for _, o := range st.sessions {
			if oldest == nil || o.expires.Before(oldest.expires) {
				oldest = o
			}
		}
		delete(st.sessions, oldest.id)
	}
	st.sessions[id] = s
	return s, nil
}

// get returns the live session with this ID, or nil.
func (st *sessionStore) get(id string) *session {
	if id == "" {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.sessions[id]
	if s == nil {
		return nil
	}
	if !st.now().Before(s.expires) {
		delete(st.sessions, id)
		return nil
	}
	return s
}

// end forgets a session.
func (st *sessionStore) end(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.sessions, id)
}

// sweepLocked drops expired sessions; create calls it, so the store never
// holds more than the sessions of the last sessionTTL.
func (st *sessionStore) sweepLocked(now time.Time) {
	for id, s := range st.sessions {
		if !now.Before(s.expires) {
			delete(st.sessions, id)
		}
	}
}

// validCSRF compares a form's token with the session's in constant time.
func (s *session) validCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

// randomToken is 256 random bits, URL-safe.
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
