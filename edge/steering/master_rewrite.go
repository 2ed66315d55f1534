package steering

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/streamfront/streamfront/internal/hlsattr"
)

// probeDataIDPrefix starts the DATA-ID of the EXT-X-SESSION-DATA tags that
// tell the player where to measure its round-trip time to each pathway's
// edge: DATA-ID="com.streamfront.rtt-probe.<pathway>",VALUE="<edge>/healthz".
// Players that do not know the tag ignore it (RFC 8216 §4.3.4.4).
const probeDataIDPrefix = "com.streamfront.rtt-probe."

// groupSeparator joins a rendition group ID to the pathway that owns its
// copy: "audio" becomes "audio@edge-1". '@' cannot occur in a Pathway ID,
// so two (group, pathway) pairs never make the same ID.
const groupSeparator = "@"

var (
	// errNotPlaylist: the body is not an M3U8 playlist.
	errNotPlaylist = errors.New("not an HLS playlist")
	// errNotMaster: a media playlist where a master (multivariant)
	// playlist was expected.
	errNotMaster = errors.New("a media playlist, not a master playlist")
	// errAlreadySteered: the master's variants already carry PATHWAY-IDs,
	// so duplicating them per edge would mix two steering schemes.
	errAlreadySteered = errors.New("the master playlist is already content-steered")
)

// masterPlaylist is a parsed master (multivariant) playlist, reduced to
// what steering rewrites. It is immutable once parsed, so one copy in the
// cache serves every request.
type masterPlaylist struct {
	// global holds the lines written once, in their order: playlist-wide
	// tags (EXT-X-VERSION, EXT-X-INDEPENDENT-SEGMENTS, EXT-X-START,
	// EXT-X-DEFINE, EXT-X-SESSION-*, unknown tags) and comments.
	global   []string
	media    []hlsattr.List // EXT-X-MEDIA
	variants []variantStream
	iframes  []hlsattr.List // EXT-X-I-FRAME-STREAM-INF (URI in the attributes)
}

// variantStream is an EXT-X-STREAM-INF tag and the URI line after it.
type variantStream struct {
	attrs hlsattr.List
	uri   string
}

// parseMaster parses a master playlist the router can steer. It refuses
// media playlists, playlists already steered, and anything it could not
// write back faithfully; an EXT-X-CONTENT-STEERING tag of the upstream is
// dropped (the router's replaces it).
func parseMaster(src []byte) (*masterPlaylist, error) {
	m, err := parseMasterLines(src)
	if err != nil {
		return nil, err
	}
	for _, v := range m.variants {
		if _, ok := v.attrs.Raw("PATHWAY-ID"); ok {
			return nil, errAlreadySteered
		}
	}
	return m, nil
}

// parseMasterLines parses a master playlist into its parts, whether it is
// steered or not.
func parseMasterLines(src []byte) (*masterPlaylist, error) {
	s := string(bytes.TrimPrefix(src, []byte("\xef\xbb\xbf")))
	lines := strings.Split(s, "\n")
	first := true
	m := &masterPlaylist{}
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], "\r \t")
		if line == "" {
			continue
		}
		if first {
			if line != "#EXTM3U" {
				return nil, errNotPlaylist
			}
			first = false
			continue
		}
		tag, value, _ := strings.Cut(line, ":")
		switch {
		case tag == "#EXTM3U":
			// A repeated header line is harmless; write one.
		case tag == "#EXTINF" || tag == "#EXT-X-TARGETDURATION" || tag == "#EXT-X-MEDIA-SEQUENCE":
			return nil, errNotMaster
		case tag == "#EXT-X-CONTENT-STEERING":
			// Replaced by the router's own.
		case tag == "#EXT-X-SESSION-DATA" && strings.Contains(value, probeDataIDPrefix):
			// A probe list of an upstream router; this router writes its own.
		case tag == "#EXT-X-MEDIA":
			attrs, err := hlsattr.Parse(value)
			if err != nil {
				return nil, fmt.Errorf("line %d: EXT-X-MEDIA: %w", i+1, err)
			}
			if _, ok := attrs.Quoted("GROUP-ID"); !ok {
				return nil, fmt.Errorf("line %d: EXT-X-MEDIA without GROUP-ID", i+1)
			}
			m.media = append(m.media, attrs)
		case tag == "#EXT-X-STREAM-INF":
			attrs, err := hlsattr.Parse(value)
			if err != nil {
				return nil, fmt.Errorf("line %d: EXT-X-STREAM-INF: %w", i+1, err)
			}
			// The URI is the next line that is not blank or a comment.
			uri := ""
			for i+1 < len(lines) {
				i++
				next := strings.TrimRight(lines[i], "\r \t")
				if next == "" || (strings.HasPrefix(next, "#") && !strings.HasPrefix(next, "#EXT")) {
					continue
				}
				uri = next
				break
			}
			if uri == "" || strings.HasPrefix(uri, "#") {
				return nil, fmt.Errorf("line %d: EXT-X-STREAM-INF is not followed by a URI", i+1)
			}
			m.variants = append(m.variants, variantStream{attrs: attrs, uri: uri})
		case tag == "#EXT-X-I-FRAME-STREAM-INF":
			attrs, err := hlsattr.Parse(value)
			if err != nil {
				return nil, fmt.Errorf("line %d: EXT-X-I-FRAME-STREAM-INF: %w", i+1, err)
			}
			if _, ok := attrs.Quoted("URI"); !ok {
				return nil, fmt.Errorf("line %d: EXT-X-I-FRAME-STREAM-INF without URI", i+1)
			}
			m.iframes = append(m.iframes, attrs)
		case strings.HasPrefix(line, "#"):
			m.global = append(m.global, line)
		default:
			return nil, fmt.Errorf("line %d: a URI %q outside EXT-X-STREAM-INF", i+1, clip(line))
		}
	}
	if first {
		return nil, errNotPlaylist
	}
	if len(m.variants) == 0 {
		return nil, fmt.Errorf("%w: no EXT-X-STREAM-INF", errNotMaster)
	}
	return m, nil
}

// steerTarget is how one master is turned into a steered one.
type steerTarget struct {
	// masterPath is the master's path on every edge, e.g.
	// "/videos/ID/master.m3u8"; relative URIs resolve against it.
	masterPath string
	// pathways are the edges, best first: the first is the initial
	// pathway, and its copies come first for clients that ignore
	// PATHWAY-ID (they take the first matching variant).
	pathways []Edge
	// rebaseFrom are base URLs whose absolute URIs are moved onto each
	// pathway's edge (every configured edge): an upstream that wrote
	// absolute URIs on one edge still gets one copy per edge.
	rebaseFrom []string
	// serverURI is the steering manifest URI (SERVER-URI).
	serverURI string
	// query, when not empty, is added to every URI on an edge, so signed
	// tokens on the master URL reach the playlists it lists. Parameters a
	// URI already has are not added again: an edge serving a signed master
	// to a query token has put the token on every URI itself.
	query string
}

// steer writes the content-steered master: the playlist-wide lines once,
// then EXT-X-CONTENT-STEERING naming the first pathway, one
// EXT-X-SESSION-DATA probe URL per pathway, and, per pathway, a copy of
// every EXT-X-MEDIA, EXT-X-STREAM-INF and EXT-X-I-FRAME-STREAM-INF with
// absolute URIs on that pathway's edge and PATHWAY-ID set. Rendition
// groups are copied per pathway ("audio@edge-1"), since a Variant Stream
// of one pathway must only use renditions on the same pathway. Variants
// and renditions get a STABLE-VARIANT-ID / STABLE-RENDITION-ID, equal
// across pathways, when the upstream gave none, so players can keep the
// same rendition when they change pathway.
func (m *masterPlaylist) steer(t steerTarget) ([]byte, error) {
	if len(t.pathways) == 0 {
		return nil, errors.New("steer: no pathways")
	}
	var b bytes.Buffer
	b.WriteString("#EXTM3U\n")
	for _, line := range m.global {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "#EXT-X-CONTENT-STEERING:SERVER-URI=%s,PATHWAY-ID=%s\n", hlsattr.Quote(t.serverURI), hlsattr.Quote(t.pathways[0].Name))
	for _, e := range t.pathways {
		fmt.Fprintf(&b, "#EXT-X-SESSION-DATA:DATA-ID=%s,VALUE=%s\n", hlsattr.Quote(probeDataIDPrefix+e.Name), hlsattr.Quote(e.URL+healthPath))
	}
	for _, e := range t.pathways {
		b.WriteByte('\n')
		for i, attrs := range m.media {
			group, _ := attrs.Quoted("GROUP-ID")
			attrs = attrs.With("GROUP-ID", hlsattr.Quote(group+groupSeparator+e.Name))
			if uri, ok := attrs.Quoted("URI"); ok {
				abs, err := t.rebase(uri, e)
				if err != nil {
					return nil, fmt.Errorf("EXT-X-MEDIA URI: %w", err)
				}
				attrs = attrs.With("URI", hlsattr.Quote(abs))
			}
			if _, ok := attrs.Raw("STABLE-RENDITION-ID"); !ok {
				attrs = attrs.With("STABLE-RENDITION-ID", hlsattr.Quote("r"+strconv.Itoa(i+1)))
			}
			b.WriteString("#EXT-X-MEDIA:" + attrs.String() + "\n")
		}
		for i, v := range m.variants {
			attrs := pathwayGroups(v.attrs, e.Name).With("PATHWAY-ID", hlsattr.Quote(e.Name))
			if _, ok := attrs.Raw("STABLE-VARIANT-ID"); !ok {
				attrs = attrs.With("STABLE-VARIANT-ID", hlsattr.Quote("v"+strconv.Itoa(i+1)))
			}
			abs, err := t.rebase(v.uri, e)
			if err != nil {
				return nil, fmt.Errorf("EXT-X-STREAM-INF URI: %w", err)
			}
			b.WriteString("#EXT-X-STREAM-INF:" + attrs.String() + "\n" + abs + "\n")
		}
		for i, attrs := range m.iframes {
			uri, _ := attrs.Quoted("URI")
			abs, err := t.rebase(uri, e)
			if err != nil {
				return nil, fmt.Errorf("EXT-X-I-FRAME-STREAM-INF URI: %w", err)
			}
			attrs = pathwayGroups(attrs, e.Name).With("URI", hlsattr.Quote(abs)).With("PATHWAY-ID", hlsattr.Quote(e.Name))
			if _, ok := attrs.Raw("STABLE-VARIANT-ID"); !ok {
				attrs = attrs.With("STABLE-VARIANT-ID", hlsattr.Quote("i"+strconv.Itoa(i+1)))
			}
			b.WriteString("#EXT-X-I-FRAME-STREAM-INF:" + attrs.String() + "\n")
		}
	}
	return b.Bytes(), nil
}

// pathwayGroups renames the rendition groups a variant refers to into the
// pathway's copies. CLOSED-CAPTIONS=NONE (an enumerated value, unquoted)
// is no group and stays.
func pathwayGroups(attrs hlsattr.List, pathway string) hlsattr.List {
	for _, name := range []string{"AUDIO", "VIDEO", "SUBTITLES", "CLOSED-CAPTIONS"} {
		if group, ok := attrs.Quoted(name); ok {
			attrs = attrs.With(name, hlsattr.Quote(group+groupSeparator+pathway))
		}
	}
	return attrs
}

// rebase makes ref, a URI from the upstream master, an absolute URI on
// edge e: a relative reference is resolved against the master's URL on e;
// an absolute one on any configured edge is moved onto e; an absolute one
// elsewhere (another host, a data: URI) is kept as it is, without the
// query.
func (t steerTarget) rebase(ref string, e Edge) (string, error) {
	if strings.ContainsAny(ref, "\"\r\n") {
		return "", fmt.Errorf("URI %q holds a quote or a line break", clip(ref))
	}
	u, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("URI %q: %w", clip(ref), err)
	}
	var abs string
	if u.IsAbs() {
		for _, from := range t.rebaseFrom {
			if rest, ok := strings.CutPrefix(ref, from+"/"); ok {
				abs = e.URL + "/" + rest
				break
			}
		}
		if abs == "" {
			return ref, nil
		}
	} else {
		base, err := url.Parse(e.URL + t.masterPath)
		if err != nil {
			return "", fmt.Errorf("edge %s URL: %w", e.Name, err)
		}
		resolved := base.ResolveReference(u)
		abs = resolved.String()
		if resolved.Host != base.Host || resolved.Scheme != base.Scheme {
			return abs, nil // "//other.host/...": not on the edge
		}
	}
	abs = addMissingParams(abs, t.query)
	if strings.ContainsAny(abs, "\"\r\n") {
		return "", fmt.Errorf("URI %q holds a quote or a line break", clip(abs))
	}
	return abs, nil
}

// addMissingParams appends to uri each parameter of query (raw
// "k=v&k2=v2") whose name uri's query does not have yet, keeping both
// spellings byte for byte (a signature may cover them), before any
// fragment.
func addMissingParams(uri, query string) string {
	if query == "" {
		return uri
	}
	base, fragment, hasFragment := strings.Cut(uri, "#")
	_, existing, _ := strings.Cut(base, "?")
	have := map[string]bool{}
	for p := range strings.SplitSeq(existing, "&") {
		name, _, _ := strings.Cut(p, "=")
		have[name] = true
	}
	var b strings.Builder
	b.WriteString(base)
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
		if strings.HasSuffix(base, "?") || strings.HasSuffix(base, "&") {
			sep = ""
		}
	}
	for p := range strings.SplitSeq(query, "&") {
		name, _, _ := strings.Cut(p, "=")
		if p == "" || have[name] {
			continue
		}
		b.WriteString(sep)
		b.WriteString(p)
		sep = "&"
	}
	if hasFragment {
		b.WriteString("#" + fragment)
	}
	return b.String()
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
