package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

//go:embed templates
var templateFiles embed.FS

// pageNames are the templates in templates/ that are whole pages; each is
// parsed together with layout.html into its own set, so the blocks every
// page defines ("content", "head") never clash.
var pageNames = []string{"library", "upload", "watch", "live", "embed", "error", "apidocs",
	"admin_signin", "admin_overview", "admin_videos", "admin_video", "admin_invalidations", "admin_edges",
	"admin_live", "admin_queue"}

var templateFuncs = template.FuncMap{
	"clock":       clock,
	"humanDate":   func(t time.Time) string { return t.UTC().Format("Jan 2, 2006") },
	"isoDate":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"humanTime":   func(t time.Time) string { return t.UTC().Format("Jan 2, 15:04 UTC") },
	"mbps":        func(bps int64) string { return strconv.FormatFloat(float64(bps)/1e6, 'f', 1, 64) + " Mbps" },
	"percent":     func(p float64) string { return strconv.Itoa(int(math.Round(math.Max(0, math.Min(100, p))))) },
	"statusLabel": statusLabel,
	"views":       viewCount,
	"bytes":       func(n int64) string { return humanBytes(float64(n)) },
	"bytesf":      humanBytes,
	"count":       func(n int64) string { return humanCount(float64(n)) },
	"countf":      humanCount,
	"ratio":       func(r float64) string { return strconv.FormatFloat(100*r, 'f', 1, 64) + " %" },
	"money":       money,
	"num":         quantity,
	"deref":       func(p *float64) float64 { return *p },
	"after":       laterBy,
}

// laterBy says how long after an event something followed: "40 ms
// later", "3.2 s later", "4 min later", "2.5 h later".
func laterBy(d time.Duration) string {
	switch {
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms later"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s later"
	case d < time.Hour:
		return strconv.FormatFloat(d.Minutes(), 'f', 0, 64) + " min later"
	default:
		return strconv.FormatFloat(d.Hours(), 'f', 1, 64) + " h later"
	}
}

// money is an amount in cents, and "< 0.01" for what rounds to none but
// is not nothing.
func money(v float64) string {
	if v > 0 && v < 0.005 {
		return "< 0.01"
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// quantity shows a billed quantity or unit price to four significant
// digits, without exponents: 0.009313, 0.085, 12.5, 1,234,568.
func quantity(v float64) string {
	if v >= 1000 || v <= -1000 {
		return humanCount(math.Round(v))
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// viewCount is "1 view", "12,345 views".
func viewCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if n == 1 {
		return s + " view"
	}
	return s + " views"
}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		files := []string{"templates/layout.html", "templates/" + name + ".html"}
		if strings.HasPrefix(name, "admin_") {
			files = append(files, "templates/admin_parts.html")
		}
		t, err := template.New(name).Funcs(templateFuncs).ParseFS(templateFiles, files...)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		pages[name] = t
	}
	return pages, nil
}

// page is what every template gets: the document's metadata, then Body for
// the page's own data.
type page struct {
	Site        string
	Title       string // the whole <title>
	Description string
	Keywords    string
	Canonical   string
	NoIndex     bool
	// OpenGraph and Twitter are rendered in order as <meta property> and
	// <meta name> tags.
	OpenGraph []metaTag
	Twitter   []metaTag
	// JSONLD, when set, is rendered as the page's application/ld+json; it is
	// marshalled by html/template, which escapes "<" and friends inside it.
	JSONLD any
	// OEmbed, when set, is the oEmbed discovery link (page_oembed.go).
	OEmbed  string
	Nav     string // "library" or "upload": the header link to mark current
	Assets  pageAssets
	Scripts []string
	Body    any
}

type metaTag struct{ Key, Value string }

// pageAssets are the versioned addresses of what pages link.
type pageAssets struct {
	SiteCSS, Icon, UploadJS, TusJS, WatchJS, LiveJS, PlayerJS, PlayerCSS string
}

func (s *Server) pageAssets() pageAssets {
	v := s.player.Version()
	return pageAssets{
		SiteCSS:   s.static.url("site.css"),
		Icon:      s.static.url("icon.svg"),
		UploadJS:  s.static.url("upload.js"),
		TusJS:     s.static.url("tus.min.js"),
		WatchJS:   s.static.url("watch.js"),
		LiveJS:    s.static.url("live.js"),
		PlayerJS:  "/player/player.js?v=" + v,
		PlayerCSS: "/player/player.css?v=" + v,
	}
}

// newPage fills what every page shares.
func (s *Server) newPage(title string) *page {
	full := s.cfg.SiteName
	if title != "" {
		full = title + " · " + s.cfg.SiteName
	}
	return &page{Site: s.cfg.SiteName, Title: full, Assets: s.pageAssets()}
}

// sharedPageCacheControl is what public pages (library, watch) send:
// browsers revalidate every time (max-age=0), an edge in front keeps the
// page 10 s and answers from it for a minute more while it refreshes, so
// a busy page costs this server one render per 10 s.
const sharedPageCacheControl = "public, max-age=0, s-maxage=10, stale-while-revalidate=60"

// privatePageCacheControl is what a private video's pages send: they carry
// signed URLs, which an edge must neither keep nor give to another viewer.
const privatePageCacheControl = "private, no-cache"

// render executes a page into memory first, so that a template failure
// becomes an error page instead of half a document.
func (s *Server) render(w http.ResponseWriter, status int, name string, p *page) error {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-cache")
	}
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// renderError answers with the error page; if even that fails, plain text.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, pe *pageError) {
	p := s.newPage(http.StatusText(pe.Status))
	p.NoIndex = true
	p.Body = pe
	w.Header().Set("Cache-Control", "no-store")
	if err := s.render(w, pe.Status, "error", p); err != nil {
		s.logger.Error("web: render the error page", "path", r.URL.Path, "err", err)
		http.Error(w, pe.Message, pe.Status)
	}
}

// clock formats seconds as m:ss or h:mm:ss.
func clock(seconds float64) string {
	s := int(math.Round(seconds))
	if s < 0 {
		s = 0
	}
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// isoDuration formats seconds as an ISO 8601 duration, as schema.org wants
// it: 63.5 → "PT1M3.5S", 3600 → "PT1H", 0 → "PT0S". Milliseconds are the
// finest unit kept.
func isoDuration(seconds float64) string {
	if !(seconds > 0) || math.IsInf(seconds, 0) {
		return "PT0S"
	}
	ms := int64(math.Round(seconds * 1000))
	h, ms := ms/3_600_000, ms%3_600_000
	m, ms := ms/60_000, ms%60_000
	var b strings.Builder
	b.WriteString("PT")
	if h > 0 {
		fmt.Fprintf(&b, "%dH", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dM", m)
	}
	if ms > 0 || (h == 0 && m == 0) {
		b.WriteString(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64))
		b.WriteString("S")
	}
	return b.String()
}

func statusLabel(status string) string {
	switch status {
	case statusUploading:
		return "Uploading"
	case statusProcessing:
		return "Processing"
	case statusReady:
		return "Ready"
	case statusFailed:
		return "Failed"
	}
	return status
}
