package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"vitals/static"
	"vitals/views"
)

// pageCSP allows only this origin: no CDN, no web font and no beacon can
// load, and an injected inline script would not run. uPlot styles its
// elements through the CSSOM, which style-src does not restrict.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// registerPages serves the dashboard at / and its files at /static/.
//
// Static files are read once at start and served with `Cache-Control:
// no-cache` and a strong ETag (a SHA-256 prefix of the content): a browser
// revalidates every file on each load and gets 304 Not Modified unless the
// binary changed. That costs one small request per file on localhost, and
// after an upgrade no stale module can ever pair with a new page, which
// matters more here than saving the round trip (ES module imports can't
// carry a content hash without a build step).
func registerPages(r *gin.Engine, cfg Config) error {
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
	serve := func(c *gin.Context) { assets.serve(c) }
	r.GET("/static/*filepath", serve)
	r.HEAD("/static/*filepath", serve)
	return nil
}

func servePage(c *gin.Context, cfg Config) {
	d := views.NewDashboard(views.Input{
		Host: views.HostInput{
			Hostname: cfg.Host.Hostname, OS: cfg.Host.OS, Platform: cfg.Host.Platform,
			PlatformVersion: cfg.Host.PlatformVersion, Kernel: cfg.Host.Kernel, Arch: cfg.Host.Arch,
			CPUs: cfg.Host.CPUs, BootTime: cfg.Host.BootTime,
		},
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
	// ServeContent answers If-None-Match with 304 and handles HEAD and
	// ranges; the zero modtime keeps Last-Modified out of it.
	http.ServeContent(c.Writer, c.Request, name, time.Time{}, bytes.NewReader(a.body))
}
