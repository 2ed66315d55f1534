package origin

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/streamfront/streamfront/internal/urlsign"
	"github.com/streamfront/streamfront/origin/catalog"
)

// Access control, the origin's half (the edges' half is in edge/access.go):
//
//   - Origin Access Control: with Config.EdgeSecret set, media requests
//     must carry an edge request signature (requireEdge), so the only way
//     to a video's bytes is through the edges, which enforce signed URLs.
//   - Private videos: their media URLs in the API are signed for the
//     video's prefix (signedQuery), and every content answer says
//     "X-Streamfront-Access: signed" (markAccess), which the edges cache
//     with the object and enforce.

// msgUseTheEdges is the refusal of a media request that bypasses the CDN.
const msgUseTheEdges = "Media is served through the CDN edges; use the hls_url/mp4_url from the API."

// requireEdge refuses media requests without a valid edge signature when
// an EdgeSecret is configured.
func (s *Server) requireEdge(next http.Handler) http.Handler {
	if s.cfg.EdgeSecret == "" {
		return next
	}
	secret := []byte(s.cfg.EdgeSecret)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := urlsign.VerifyRequest(r, secret, time.Now()); err != nil {
			level := slog.LevelDebug // a viewer who went around the edges
			if r.Header.Get(urlsign.RequestHeader) != "" {
				level = slog.LevelWarn // an edge with another secret, or a clock far off
			}
			s.log.Log(r.Context(), level, "media request refused: no valid edge signature",
				slog.String("path", r.URL.Path), slog.String("remote", r.RemoteAddr), slog.Any("err", err))
			writeError(w, r, http.StatusForbidden, msgUseTheEdges)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// markAccess tells the edges that v's content needs a viewer token.
func markAccess(w http.ResponseWriter, v *catalog.Video) {
	if v.Visibility == catalog.Private {
		w.Header().Set(urlsign.AccessHeader, urlsign.AccessSigned)
	}
}

// signedQuery is the query ("?token=...") that opens every media URL of
// video id until now+SignedURLTTL, or "" when the origin has no signing
// key (the URLs then go out unsigned and edges refuse them).
func (s *Server) signedQuery(id string, now time.Time) string {
	if len(s.cfg.SigningKey) == 0 {
		return ""
	}
	tok, err := urlsign.Sign(urlsign.Policy{
		Resource: "/videos/" + id + "/",
		Expires:  now.Add(s.cfg.SignedURLTTL),
	}, urlsign.Key{ID: s.cfg.SigningKeyID, Secret: s.cfg.SigningKey})
	if err != nil {
		// The key was checked in New and IDs are ours: this cannot
		// happen, and an unsigned URL fails closed at the edge.
		s.log.Error("signing a media URL failed", slog.String("id", id), slog.Any("err", err))
		return ""
	}
	return "?" + urlsign.QueryParam + "=" + tok
}
