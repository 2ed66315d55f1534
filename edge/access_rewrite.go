package edge

import (
	"bytes"
	"mime"
	"net/url"
	"strings"

	"github.com/streamfront/streamfront/internal/hlsattr"
	"github.com/streamfront/streamfront/internal/urlsign"
)

// Carrying a query token from a playlist to its children.
//
// Players resolve a playlist's URIs against the playlist's URL without its
// query, so "?token=" on a master playlist is lost on the first child.
// When a signed playlist is served to a request authorised by a query
// token, every URI in it gets the same token appended, on the way out:
//
//   - URI lines (variant playlists, segments);
//   - URI="..." attributes of any tag (EXT-X-MAP, EXT-X-MEDIA,
//     EXT-X-I-FRAME-STREAM-INF, EXT-X-KEY, EXT-X-PART, ...);
//   - in a storyboard WebVTT, cue payloads that are image references
//     ("sprite-0.jpg#xywh=0,0,160,90").
//
// A URI with a query gets "&token=", one without "?token=", placed before
// any "#fragment". A URI that already has a token parameter is left as it
// is. Absolute URIs ("https://...", "//host/...", "data:", "skd:") are
// left alone: a token is a credential for this CDN's paths and must not be
// handed to another host. Host-relative ("/videos/...") and relative URIs
// get it.

// rewriteKind says whether, and how, a signed body carries a query token
// to the URIs inside it. It is derived once per entry (entry.setAccess).
type rewriteKind uint8

const (
	rewriteNone rewriteKind = iota
	rewritePlaylist
	rewriteVTT
)

// maxRewriteBody is the largest body rewritten; a larger "playlist" is
// served as stored (a VOD playlist of ten hours is about 300 KB).
const maxRewriteBody = 8 << 20

// rewriteKindOf tells a playlist or WebVTT by Content-Type, else by the
// key's extension.
func rewriteKindOf(contentType, key string) rewriteKind {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		switch strings.ToLower(mt) {
		case "application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl", "audio/x-mpegurl":
			return rewritePlaylist
		case "text/vtt":
			return rewriteVTT
		}
	}
	path, _, _ := strings.Cut(key, "?")
	switch {
	case strings.HasSuffix(path, ".m3u8"):
		return rewritePlaylist
	case strings.HasSuffix(path, ".vtt"):
		return rewriteVTT
	}
	return rewriteNone
}

// addTokenToPlaylist returns an HLS playlist with token added to every
// relative URI, and whether it is a multivariant (master) playlist. Line
// endings are kept.
func addTokenToPlaylist(body []byte, token string) (out []byte, master bool) {
	var b bytes.Buffer
	b.Grow(len(body) + len(body)/4)
	param := urlsign.QueryParam + "=" + url.QueryEscape(token)
	forEachLine(body, func(line []byte, eol []byte) {
		text := string(line)
		trimmed := strings.TrimSpace(text)
		switch {
		case trimmed == "":
			b.WriteString(text)
		case strings.HasPrefix(trimmed, "#EXT"):
			if strings.HasPrefix(trimmed, "#EXT-X-STREAM-INF") {
				master = true
			}
			b.WriteString(rewriteURIAttributes(text, param))
		case strings.HasPrefix(trimmed, "#"):
			b.WriteString(text) // a comment
		default:
			b.WriteString(rewriteTrimmed(text, trimmed, param))
		}
		b.Write(eol)
	})
	return b.Bytes(), master
}

// rewriteTrimmed adds the token to the URI trimmed, which is text without
// its surrounding white space, and keeps that white space.
func rewriteTrimmed(text, trimmed, param string) string {
	lead := strings.Index(text, trimmed)
	return text[:lead] + addTokenParam(trimmed, param) + text[lead+len(trimmed):]
}

// rewriteURIAttributes adds the token to the URI attribute of a tag line
// ("#EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=..."). It walks the attribute
// list as the router does (internal/hlsattr), so a quoted value that
// contains "URI=" is not mistaken for one. A line that is not an
// attribute list is returned as it is.
func rewriteURIAttributes(line, param string) string {
	colon := strings.IndexByte(line, ':')
	if colon < 0 || !strings.Contains(line, `URI="`) {
		return line
	}
	attrs := hlsattr.MapQuoted(line[colon+1:], "URI", func(uri string) string { return addTokenParam(uri, param) })
	return line[:colon+1] + attrs
}

// addTokenToVTT adds the token to the image references of a storyboard
// WebVTT: cue payload lines that are a single URI of an image. Subtitle
// text is left alone.
func addTokenToVTT(body []byte, token string) []byte {
	var b bytes.Buffer
	b.Grow(len(body) + len(body)/4)
	param := urlsign.QueryParam + "=" + url.QueryEscape(token)
	inCue := false
	forEachLine(body, func(line []byte, eol []byte) {
		text := string(line)
		trimmed := strings.TrimSpace(text)
		switch {
		case trimmed == "":
			inCue = false
			b.WriteString(text)
		case strings.Contains(trimmed, "-->"):
			inCue = true
			b.WriteString(text)
		case inCue && isImageReference(trimmed):
			b.WriteString(rewriteTrimmed(text, trimmed, param))
		default:
			b.WriteString(text)
		}
		b.Write(eol)
	})
	return b.Bytes()
}

// isImageReference reports whether a cue payload is one URI of an image
// (with an optional query and #xywh fragment).
func isImageReference(s string) bool {
	if strings.ContainsAny(s, " \t") {
		return false
	}
	path, _, _ := strings.Cut(s, "#")
	path, _, _ = strings.Cut(path, "?")
	path = strings.ToLower(path)
	for _, ext := range []string{".jpg", ".jpeg", ".png", ".webp", ".avif", ".gif"} {
		if strings.HasSuffix(path, ext) {
			return true
		}
	}
	return false
}

// addTokenParam appends param ("token=...") to a relative URI's query,
// before its fragment. Absolute URIs and URIs that already carry a token
// are returned unchanged.
func addTokenParam(uri, param string) string {
	if uri == "" || isAbsoluteURI(uri) {
		return uri
	}
	base, frag, hasFrag := strings.Cut(uri, "#")
	_, query, hasQuery := strings.Cut(base, "?")
	if hasQuery {
		if _, ok := tokenFromQuery(query); ok {
			return uri
		}
	}
	var b strings.Builder
	b.Grow(len(uri) + len(param) + 1)
	b.WriteString(base)
	switch {
	case !hasQuery:
		b.WriteByte('?')
	case query != "" && !strings.HasSuffix(query, "&"):
		b.WriteByte('&')
	}
	b.WriteString(param)
	if hasFrag {
		b.WriteByte('#')
		b.WriteString(frag)
	}
	return b.String()
}

// isAbsoluteURI reports whether uri names its own host or scheme: a
// network-path reference ("//host/...") or one with a scheme ("https:",
// "data:", "skd:").
func isAbsoluteURI(uri string) bool {
	if strings.HasPrefix(uri, "//") {
		return true
	}
	for i := 0; i < len(uri); i++ {
		c := uri[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case c == ':':
			return i > 0
		default:
			return false
		}
	}
	return false
}

// forEachLine calls fn with each line of body and its line ending ("\n",
// "\r\n", or empty for a last line without one).
func forEachLine(body []byte, fn func(line, eol []byte)) {
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\n')
		if i < 0 {
			fn(body, nil)
			return
		}
		line, eol := body[:i], body[i:i+1]
		if i > 0 && body[i-1] == '\r' {
			line, eol = body[:i-1], body[i-1:i+1]
		}
		fn(line, eol)
		body = body[i+1:]
	}
}
