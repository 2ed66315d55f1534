package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// The operator's dashboard under /admin. An operator signs in with the
// deployment's API key, which the site checks against the origin and then
// keeps server-side (admin_session.go); every later call to the API is
// made by the site with that key. Without a session, pages redirect to the
// sign-in form and form posts are refused with 403.
//
// Cross-site request forgery is stopped twice: the session cookie is
// SameSite=Strict (a browser never sends it with a request another site
// started), and every admin form carries the session's random token,
// checked on each POST.

// maxAdminForm bounds an admin form's body; the largest, the video edit
// form, is far below it.
const maxAdminForm = 64 << 10

type sessionKey struct{}

// adminRoutes mounts /admin on r.
func (s *Server) adminRoutes(r chi.Router) {
	r.Route("/admin", func(r chi.Router) {
		r.Use(adminHeaders)
		r.Get("/sign-in", s.handle(s.adminSignInPage))
		r.Post("/sign-in", s.handle(s.adminSignIn))
		r.Group(func(r chi.Router) {
			r.Use(s.requireSession)
			r.Get("/", s.handleAdmin(s.adminOverview))
			r.Post("/sign-out", s.handleAdmin(s.adminSignOut))
			r.Get("/videos", s.handleAdmin(s.adminVideos))
			r.Get("/videos/{id}", s.handleAdmin(s.adminVideo))
			r.Post("/videos/{id}", s.handleAdmin(s.adminEditVideo))
			r.Post("/videos/{id}/delete", s.handleAdmin(s.adminDeleteVideo))
			r.Get("/invalidations", s.handleAdmin(s.adminInvalidations))
			r.Post("/invalidations", s.handleAdmin(s.adminInvalidate))
			r.Get("/edges", s.handleAdmin(s.adminEdges))
			r.Get("/live", s.handleAdmin(s.adminLive))
			r.Get("/queue", s.handleAdmin(s.adminQueue))
			r.Post("/live/{id}/reset-key", s.handleAdmin(s.adminResetLiveKey))
			r.Post("/live/{id}/delete", s.handleAdmin(s.adminDeleteLive))
		})
		r.NotFound(s.handle(func(http.ResponseWriter, *http.Request) error {
			return &pageError{Status: http.StatusNotFound, Message: "There is no admin page at this address."}
		}))
	})
}

// adminHeaders keeps admin pages out of caches and search engines.
func adminHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Robots-Tag", "noindex")
		next.ServeHTTP(w, r)
	})
}

// adminHandler is an admin page or action: it runs only with a session.
type adminHandler func(w http.ResponseWriter, r *http.Request, sess *session) error

func (s *Server) handleAdmin(h adminHandler) http.HandlerFunc {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		sess, _ := r.Context().Value(sessionKey{}).(*session)
		if sess == nil { // requireSession runs first; this is a wiring mistake
			return &pageError{Status: http.StatusForbidden, Message: "Sign in to use the dashboard."}
		}
		err := h(w, r, sess)
		if errors.Is(err, errKeyRefused) {
			// The key was changed on the origin since the sign-in: this
			// session is worth nothing any more.
			s.sessions.end(sess.id)
			s.clearSessionCookie(w, r)
			return &pageError{Status: http.StatusUnauthorized, Message: "The origin no longer accepts the API key you signed in with. Sign in again with the current key.", Err: err}
		}
		return err
	})
}

// requireSession lets requests with a live session through, with the
// session in their context. Without one, a page is redirected to the
// sign-in form and anything else refused; a POST must also carry the
// session's form token and must not come from another site.
func (s *Server) requireSession(next http.Handler) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		sess := s.sessionOf(r)
		if sess == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/admin/sign-in?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
				return nil
			}
			return &pageError{Status: http.StatusForbidden, Message: "You are not signed in, or your session has ended. Sign in to the dashboard and send the form again."}
		}
		if r.Method == http.MethodPost {
			if crossSite(r) {
				return &pageError{Status: http.StatusForbidden, Message: "This form was sent from another site, so it was refused."}
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxAdminForm)
			if err := r.ParseForm(); err != nil {
				return &pageError{Status: http.StatusBadRequest, Message: "The form could not be read; reload the page and send it again.", Err: err}
			}
			if !sess.validCSRF(r.PostForm.Get("csrf")) {
				return &pageError{Status: http.StatusForbidden, Message: "This form is out of date (its security token does not match your session). Reload the page and send it again."}
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)))
		return nil
	})
}

// crossSite reports a request a browser says another site started.
// Browsers that do not send Sec-Fetch-Site still send SameSite=Strict
// cookies only with same-site requests.
func crossSite(r *http.Request) bool {
	return r.Header.Get("Sec-Fetch-Site") == "cross-site"
}

// sessionOf returns the request's live session, or nil.
func (s *Server) sessionOf(r *http.Request) *session {
	c, err := r.Cookie(s.cookieName(r))
	if err != nil {
		return nil
	}
	return s.sessions.get(c.Value)
}

// secureCookies reports whether the session cookie gets Secure: when the
// site is public over HTTPS, or this request came over TLS.
func (s *Server) secureCookies(r *http.Request) bool {
	return s.publicURL.Scheme == "https" || r.TLS != nil
}

func (s *Server) cookieName(r *http.Request) string {
	if s.secureCookies(r) {
		return sessionCookieSecure
	}
	return sessionCookie
}

func (s *Server) setSessionCookie(w http.ResponseWriter, r *http.Request, sess *session) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(r),
		Value:    sess.id,
		Path:     "/",
		MaxAge:   int(time.Until(sess.expires).Seconds()),
		HttpOnly: true,
		Secure:   s.secureCookies(r),
		SameSite: http.SameSiteStrictMode,
	})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName(r),
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		HttpOnly: true,
		Secure:   s.secureCookies(r),
		SameSite: http.SameSiteStrictMode,
	})
}

// signInView is the sign-in page's Body.
type signInView struct {
	Next  string
	Error string
}

func (s *Server) adminSignInPage(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	if s.sessionOf(r) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return s.renderSignIn(w, http.StatusOK, signInView{Next: next})
}

func (s *Server) renderSignIn(w http.ResponseWriter, status int, view signInView) error {
	p := s.newPage("Sign in to the dashboard")
	p.NoIndex = true
	p.Nav = "admin"
	p.Body = view
	return s.render(w, status, "admin_signin", p)
}

// adminSignIn checks the key with the origin and starts a session.
func (s *Server) adminSignIn(w http.ResponseWriter, r *http.Request) error {
	if crossSite(r) {
		return &pageError{Status: http.StatusForbidden, Message: "This form was sent from another site, so it was refused."}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAdminForm)
	if err := r.ParseForm(); err != nil {
		return &pageError{Status: http.StatusBadRequest, Message: "The form could not be read; reload the page and send it again.", Err: err}
	}
	view := signInView{Next: safeNext(r.PostForm.Get("next"))}
	key := strings.TrimSpace(r.PostForm.Get("api_key"))
	if key == "" {
		view.Error = "Enter the deployment's API key (secrets.api_key, or STREAMFRONT_API_KEY)."
		return s.renderSignIn(w, http.StatusBadRequest, view)
	}
	err := s.api.checkKey(r.Context(), key)
	if errors.Is(err, errKeyRefused) {
		view.Error = "The origin refused this API key. Check it against secrets.api_key (or STREAMFRONT_API_KEY) of the deployment."
		return s.renderSignIn(w, http.StatusUnauthorized, view)
	}
	if err != nil {
		return err
	}
	sess, err := s.sessions.create(key)
	if err != nil {
		return err
	}
	s.setSessionCookie(w, r, sess)
	http.Redirect(w, r, view.Next, http.StatusSeeOther)
	return nil
}

func (s *Server) adminSignOut(w http.ResponseWriter, r *http.Request, sess *session) error {
	s.sessions.end(sess.id)
	s.clearSessionCookie(w, r)
	http.Redirect(w, r, "/admin/sign-in", http.StatusSeeOther)
	return nil
}

// safeNext keeps a post-sign-in redirect on the dashboard: only a path
// under /admin, never another host ("//evil.example" or "/\evil").
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/admin") || strings.HasPrefix(next, "/admin/sign-in") ||
		strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(next, "//") {
		return "/admin"
	}
	u, err := url.Parse(next)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/admin"
	}
	return next
}

// adminPage is the Body of every signed-in page: its own data and what the
// shared admin navigation needs.
type adminPage struct {
	Section string // overview, videos, invalidations, edges, live, queue
	CSRF    string
	View    any
}

func (s *Server) renderAdmin(w http.ResponseWriter, status int, name, title, section string, sess *session, view any) error {
	p := s.newPage(title)
	p.NoIndex = true
	p.Nav = "admin"
	p.Body = adminPage{Section: section, CSRF: sess.csrf, View: view}
	return s.render(w, status, name, p)
}
