package urlsign

// The names origin and edges agree on.
const (
	// QueryParam is the query parameter that carries a token in a signed
	// URL: ".../master.m3u8?token=<token>".
	QueryParam = "token"
	// CookieName is the cookie that carries a token (a signed cookie).
	CookieName = "Streamfront-Token"
	// AccessHeader is set by the origin on every content response of a
	// private video, with the value AccessSigned; edges cache it with the
	// object and ask viewers for a token before serving it.
	AccessHeader = "X-Streamfront-Access"
	// AccessSigned is AccessHeader's value for objects that need a token.
	AccessSigned = "signed"
)
