package web

import "net/http"

// uploadView is the upload page's Body.
type uploadView struct {
	// APIKey pre-fills the key field in the one-process dev mode.
	APIKey string
}

// upload serves the upload form. upload.js sends the file to
// /api/v1/videos (proxied to the origin) and follows its processing.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) error {
	p := s.newPage("Upload a video")
	p.Nav = "upload"
	p.NoIndex = true
	p.Canonical = s.cfg.PublicURL + "/upload"
	p.Description = "Upload a video to " + s.cfg.SiteName + "."
	p.Scripts = []string{p.Assets.TusJS, p.Assets.UploadJS}
	p.Body = uploadView{APIKey: s.cfg.DevAPIKey}
	// The page may carry the dev API key: keep it out of shared caches.
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, http.StatusOK, "upload", p)
}
