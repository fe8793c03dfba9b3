package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"

	"vitals/static"
	"vitals/views"
)

// pageCSP allows only this origin: no CDN, no web font and no beacon can
// load, and an injected inline script would not run. uPlot styles its
// elements through the CSSOM, which style-src does not restrict.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// registerPages serves the dashboard at /, the iframe page at /embed and
// their files at /static/.
//
// Static files are read once at start and served with `Cache-Control:
// no-cache` and a strong ETag (a SHA-256 prefix of the content): a browser
// revalidates every file on each load and gets 304 Not Modified unless the
// binary changed. That costs one small request per file on localhost, and
// after an upgrade no stale module can ever pair with a new page, which
// matters more here than saving the round trip (ES module imports can't
// carry a content hash without a build step).
func registerPages(r *gin.Engine, cfg Options) error {
	if cfg.Static == nil {
		return fmt.Errorf("handlers: Static is required (pass static.FS())")
	}
	if missing := static.Missing(cfg.Static); len(missing) > 0 {
		return fmt.Errorf("dashboard files missing: %s (run `make assets` to install them from npm)", strings.Join(missing, ", "))
	}
	assets, err := loadAssets(cfg.Static)
	if err != nil {
		return fmt.Errorf("load static files: %w", err)
	}

	r.GET("/", func(c *gin.Context) { servePage(c, cfg) })
	r.HEAD("/", func(c *gin.Context) { servePage(c, cfg) })
	embed := newEmbedPage(cfg)
	r.GET("/embed", embed.serve)
	r.HEAD("/embed", embed.serve)
	serve := func(c *gin.Context) { assets.serve(c) }
	r.GET("/static/*filepath", serve)
	r.HEAD("/static/*filepath", serve)
	return nil
}

func servePage(c *gin.Context, cfg Options) {
	d := views.NewDashboard(views.Input{
		Host:      cfg.Host,
		Interval:  cfg.Interval,
		Retention: cfg.Retention,
		Now:       time.Now(),
	})
	// Render into a buffer first so a template error is a clean 500, not
	// half a page.
	var buf bytes.Buffer
	if err := views.Page(d).Render(c.Request.Context(), &buf); err != nil {
		cfg.Logger.Error("render dashboard", "err", err)
		jsonError(c, http.StatusInternalServerError, "could not render the page")
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	c.Status(http.StatusOK)
	if c.Request.Method != http.MethodHead {
		_, _ = c.Writer.Write(buf.Bytes())
	}
}

// asset is one static file, read once.
type asset struct {
	body        []byte
	etag        string
	contentType string
}

type assetSet map[string]asset

func loadAssets(fsys fs.FS) (assetSet, error) {
	set := assetSet{}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		set[name] = asset{
			body:        body,
			etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
			contentType: contentType(name),
		}
		return nil
	})
	return set, err
}

// contentType pins the types the page depends on: a module script served
// as anything but JavaScript is refused by the browser, and the system's
// mime table can't be trusted to know .js or .svg.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func (s assetSet) serve(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("filepath"), "/")
	a, ok := s[name]
	if !ok {
		jsonError(c, http.StatusNotFound, "no such file")
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	// Any page may load these files: <script type="module"> fetches in
	// CORS mode, so the embed element (embed.js, the modules it imports and
	// uPlot's CSS) loads on other origins only with this header. They are
	// the same public code in every install and carry no data; who may read
	// data is decided on /events and /api/* (--cors-origins, tokens).
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	// ServeContent answers If-None-Match with 304 and handles HEAD and
	// ranges; the zero modtime keeps Last-Modified out of it.
	http.ServeContent(c.Writer, c.Request, name, time.Time{}, bytes.NewReader(a.body))
}

// embedRanges are the /embed page's windows, as the dashboard offers them.
var embedRanges = []string{"5m", "15m", "1h"}

var embedThemes = []string{"light", "dark", "auto"}

// embedPage serves GET /embed?topics=cpu,load&range=5m&theme=light: one
// <vitals-chart> per chart and nothing else, for an <iframe>.
type embedPage struct {
	cfg    Options
	topics []string
	csp    string
}

func newEmbedPage(cfg Options) *embedPage {
	return &embedPage{cfg: cfg, topics: cfg.Sources.Topics(), csp: embedCSP(cfg.Access.CORSOrigins)}
}

// embedCSP is pageCSP with two differences. The page's one inline style
// is allowed by its hash. And it may be framed: by this origin, and by the
// --cors-origins (any page when that is *). One flag says who may embed
// this server, whether by script or by iframe; without it, only vitals'
// own pages may frame it. The page has no controls that change anything,
// so framing risks no clickjacking, but an operator who did not opt in to
// embedding should not find the host's charts inside other sites.
func embedCSP(origins []string) string {
	sum := sha256.Sum256([]byte(views.EmbedCSS))
	ancestors := "'self'"
	for _, o := range origins {
		switch {
		case o == "*":
			ancestors = "*"
		case ancestors != "*" && cspOrigin.MatchString(o):
			ancestors += " " + strings.TrimSuffix(o, "/")
		}
	}
	return "default-src 'self'; script-src 'self'; style-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; " +
		"frame-ancestors " + ancestors
}

// cspOrigin is a scheme://host[:port] that can go into a CSP as is: config
// checks --cors-origins, and this keeps a stray ';' or space from ever
// adding a directive.
var cspOrigin = regexp.MustCompile(`^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?/?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?/?$`)

func (p *embedPage) serve(c *gin.Context) {
	var names []string
	for _, n := range strings.Split(c.Query("topics"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	charts, err := views.ResolveEmbedCharts(names, p.topics)
	if err != nil {
		p.fail(c, err.Error(), views.EmbedChartNames(p.topics))
		return
	}
	rng := c.DefaultQuery("range", embedRanges[0])
	if !slices.Contains(embedRanges, rng) {
		p.fail(c, "unknown range "+strconv.Quote(rng), embedRanges)
		return
	}
	theme := c.DefaultQuery("theme", embedThemes[0])
	if !slices.Contains(embedThemes, theme) {
		p.fail(c, "unknown theme "+strconv.Quote(theme), embedThemes)
		return
	}
	e := views.NewEmbed(views.EmbedInput{Hostname: p.cfg.Host.Hostname, Charts: charts, Range: rng, Theme: theme})
	p.write(c, http.StatusOK, views.EmbedPage(e))
}

// fail answers a bad /embed URL with a page that says what is wrong: it is
// shown inside someone's iframe, where JSON would read as noise.
func (p *embedPage) fail(c *gin.Context, msg string, valid []string) {
	p.write(c, http.StatusBadRequest, views.EmbedErrorPage(views.EmbedError{Message: msg, Valid: valid}))
	c.Abort()
}

func (p *embedPage) write(c *gin.Context, status int, page templ.Component) {
	var buf bytes.Buffer
	if err := page.Render(c.Request.Context(), &buf); err != nil {
		p.cfg.Logger.Error("render embed page", "err", err)
		jsonError(c, http.StatusInternalServerError, "could not render the page")
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Security-Policy", p.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	// The URL may carry ?token=: never send it on in a Referer.
	h.Set("Referrer-Policy", "no-referrer")
	c.Status(status)
	if c.Request.Method != http.MethodHead {
		_, _ = c.Writer.Write(buf.Bytes())
	}
}
