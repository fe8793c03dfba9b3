package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// grant is what a credential allows.
type grant int

const (
	grantNone grant = iota
	grantRead       // the read token: /events, /api/*, /embed
	grantFull       // the token: everything
)

// routeClass is what a path needs.
type routeClass int

const (
	routeOpen    routeClass = iota // /healthz, /static/*: no data, no token
	routeRead                      // /events, /api/*, /embed
	routeMetrics                   // /metrics: per MetricsPublic
	routeFull                      // the dashboard and anything unknown
)

func classify(path string) routeClass {
	switch {
	case path == "/healthz" || strings.HasPrefix(path, "/static/"):
		// Static files are the page's code, the same in every install;
		// hiding them protects nothing, and a <script src> for the embed
		// element can't carry a header.
		return routeOpen
	case path == "/events" || path == "/embed" || strings.HasPrefix(path, "/api/"):
		return routeRead
	case path == "/metrics":
		return routeMetrics
	}
	return routeFull
}

// cookieLabel keys the HMAC that turns a token into its cookie value: the
// browser keeps a value that opens the dashboard, not the token itself, so
// a leaked cookie can't be replayed as a Bearer token against the API.
const cookieLabel = "vitals session cookie v1"

// cookieMaxAge is 30 days: long enough that a bookmarked dashboard keeps
// working, short enough that a forgotten browser doesn't hold access for
// ever. Rotating the token ends every cookie at once.
const cookieMaxAge = 30 * 24 * 60 * 60

type authState struct {
	enabled       bool
	metricsPublic bool
	full, read    [sha256.Size]byte // digests of the tokens
	hasRead       bool
	cookie        [sha256.Size]byte // digest of the full token's cookie value
}

func newAuthState(a Access) authState {
	st := authState{enabled: a.Token != "", metricsPublic: a.MetricsPublic}
	if !st.enabled {
		return st
	}
	st.full = sha256.Sum256([]byte(a.Token))
	if a.ReadToken != "" {
		st.read, st.hasRead = sha256.Sum256([]byte(a.ReadToken)), true
	}
	st.cookie = sha256.Sum256([]byte(cookieValue(a.Token)))
	return st
}

func cookieValue(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte(cookieLabel))
	return hex.EncodeToString(m.Sum(nil))
}

// check compares a presented token with both tokens in constant time:
// comparing SHA-256 digests hides the tokens' lengths too.
func (a *authState) check(token string) grant {
	d := sha256.Sum256([]byte(token))
	isFull := subtle.ConstantTimeCompare(d[:], a.full[:])
	isRead := subtle.ConstantTimeCompare(d[:], a.read[:])
	switch {
	case isFull == 1:
		return grantFull
	case isRead == 1 && a.hasRead:
		return grantRead
	}
	return grantNone
}

func (a *authState) checkCookie(v string) grant {
	d := sha256.Sum256([]byte(v))
	if subtle.ConstantTimeCompare(d[:], a.cookie[:]) == 1 {
		return grantFull
	}
	return grantNone
}

// credentials returns the best grant among the request's credentials (an
// Authorization: Bearer header, a token query parameter, the session
// cookie) and whether any was presented at all.
func (a *authState) credentials(r *http.Request) (best grant, presented bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		presented = true
		if scheme, tok, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			best = max(best, a.check(strings.TrimSpace(tok)))
		}
	}
	if toks, ok := r.URL.Query()["token"]; ok {
		presented = true
		for _, t := range toks {
			best = max(best, a.check(t))
		}
	}
	if ck, err := r.Cookie(cookieName(r)); err == nil {
		presented = true
		best = max(best, a.checkCookie(ck.Value))
	}
	return best, presented
}

// cookieName includes the port the browser used: cookies are shared by
// every port of a host, and two vitals on one machine (say :8080 and :8081)
// must not overwrite each other's session.
func cookieName(r *http.Request) string {
	if _, port, err := net.SplitHostPort(r.Host); err == nil && port != "" {
		return "vitals_session_" + port
	}
	return "vitals_session"
}

// authorize enforces the tokens. See docs/operations.md for the rules.
func (s *server) authorize(c *gin.Context) {
	a := &s.ops.auth
	class := classify(c.Request.URL.Path)
	if c.Request.Method == http.MethodPost {
		class = routeFull // silences and test notifications: the full token only
	}
	if !a.enabled || class == routeOpen || (class == routeMetrics && a.metricsPublic) {
		c.Next()
		return
	}
	g, presented := a.credentials(c.Request)
	switch {
	case g == grantFull || (g == grantRead && class == routeRead):
	case g == grantRead:
		jsonError(c, http.StatusForbidden, "the read token may only read /events, /api/* and /embed; changes need the full token")
		return
	default:
		c.Header("WWW-Authenticate", `Bearer realm="vitals"`)
		msg := "this vitals needs an access token: send Authorization: Bearer <token>, add ?token=<token>, or open /?token=<token> once in the browser"
		if presented {
			msg = "wrong access token"
		}
		jsonError(c, http.StatusUnauthorized, msg)
		return
	}
	if g == grantRead {
		c.Set(restrictedKey, true)
	}
	if g == grantFull && c.Request.URL.Path == "/" && c.Request.URL.Query().Has("token") {
		s.setSessionCookie(c)
		return
	}
	c.Next()
}

// restrictedKey marks a request made with the read token in the gin
// context: what it reads is redacted (history.Event.For).
const restrictedKey = "vitals.restricted"

// isRestricted reports whether the request came with the read token, which
// never sees what a topic's redactor strips (command lines, user names).
// Without tokens every viewer is the owner.
func isRestricted(c *gin.Context) bool { return c.GetBool(restrictedKey) }

// setSessionCookie answers /?token=<token>: the browser gets an HttpOnly,
// SameSite=Strict cookie and is sent back to the same URL without the
// token, so it doesn't linger in the address bar, history or bookmarks.
func (s *server) setSessionCookie(c *gin.Context) {
	r := c.Request
	http.SetCookie(c.Writer, &http.Cookie{
		Name:     cookieName(r),
		Value:    cookieValue(s.cfg.Access.Token),
		Path:     "/",
		MaxAge:   cookieMaxAge,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
		// Secure when the browser talks TLS (directly or to a proxy that
		// says so): the cookie then never travels in clear.
		Secure: r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"),
	})
	q := r.URL.Query()
	q.Del("token")
	target := url.URL{Path: "/", RawQuery: q.Encode()}
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
	c.Redirect(http.StatusSeeOther, target.String())
	c.Abort()
}
