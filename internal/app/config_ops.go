package app

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
)

// Operations are the settings for running vitals where others can reach
// it: access tokens, embedding (CORS), limits and log format. See
// docs/operations.md.
type Operations struct {
	// Token grants everything; ReadToken only /events, /api/* and /embed.
	// Both empty: no access control (allowed on loopback, or with Insecure).
	Token, ReadToken string
	TokenFile        string
	// Insecure allows a non-loopback --addr without a token.
	Insecure bool
	// AllowedHosts are Host names accepted besides loopback ones (DNS
	// rebinding protection while bound to loopback).
	AllowedHosts []string
	// CORSOrigins are the exact origins (or "*") that may read /events and
	// /api/* from another site.
	CORSOrigins   []string
	MetricsPublic bool
	MaxClients    int
	LogFormat     string // auto, text or json
	// TLSCert and TLSKey are PEM files; both set: serve HTTPS (and HTTP/2).
	TLSCert, TLSKey string
}

// maxTokenFile bounds --token-file: a token is a line, and reading a huge
// file by mistake (a log, a device) should fail, not eat memory.
const maxTokenFile = 4 << 10

// minTokenLen keeps tokens out of guessing range: 16 characters of
// `openssl rand -hex 16` is 64 bits even for a careless choice of alphabet.
const minTokenLen = 16

// defaultMaxClients: each stream costs a goroutine, a socket and a small
// queue; 10,000 fit in a few hundred MB, far below what a small VM has.
const defaultMaxClients = 10000

func (o *Operations) addFlags(fs *flag.FlagSet) {
	o.MaxClients = defaultMaxClients
	o.LogFormat = "auto"
	fs.StringVar(&o.Token, "token", "", "access token required by every request except /healthz (prefer VITALS_TOKEN or --token-file: flags show in ps)")
	fs.StringVar(&o.TokenFile, "token-file", "", "file holding the access token (first line)")
	fs.StringVar(&o.ReadToken, "read-token", "", "second token that may only read /events, /api/* and /embed (for embedding)")
	fs.BoolVar(&o.Insecure, "insecure", false, "allow a non-loopback --addr without a token")
	fs.Var((*commaList)(&o.AllowedHosts), "allowed-hosts", "comma list of Host names accepted besides loopback ones")
	fs.Var((*commaList)(&o.CORSOrigins), "cors-origins", "comma list of origins (https://example.com) allowed to read /events and /api/*, or *")
	fs.BoolVar(&o.MetricsPublic, "metrics-public", false, "serve /metrics without a token even when tokens are set")
	fs.IntVar(&o.MaxClients, "max-clients", o.MaxClients, "most concurrent /events streams; more are told to retry later")
	fs.StringVar(&o.LogFormat, "log-format", o.LogFormat, "auto (text on a terminal, else JSON), text or json")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "PEM certificate `file` (chain first to last): serve HTTPS and HTTP/2; reloaded on SIGHUP")
	fs.StringVar(&o.TLSKey, "tls-key", "", "PEM private key `file` of --tls-cert")
}

// finish reads the token file and checks the settings against --addr. Errors
// are one line naming the flag, and never contain a token.
func (o *Operations) finish(addr string) error {
	if o.TokenFile != "" {
		if o.Token != "" {
			return errors.New("--token and --token-file are both set: use one")
		}
		tok, err := readTokenFile(o.TokenFile)
		if err != nil {
			return err
		}
		o.Token = tok
	}
	for _, t := range []struct{ flag, val string }{{"--token", o.Token}, {"--read-token", o.ReadToken}} {
		if t.val == "" {
			continue
		}
		if len(t.val) < minTokenLen {
			return fmt.Errorf("%s is too short: at least %d characters (for example: openssl rand -hex 16)", t.flag, minTokenLen)
		}
		for _, r := range t.val {
			// Tokens travel in headers, URLs and cookies: visible ASCII
			// only, so no encoding can change them on the way.
			if r <= ' ' || r > '~' || r == ';' || r == ',' || r == '"' || r == '\\' {
				return fmt.Errorf("%s may only contain visible ASCII characters other than ; , \" and \\", t.flag)
			}
		}
	}
	switch {
	case (o.TLSCert == "") != (o.TLSKey == ""):
		return errors.New("--tls-cert and --tls-key go together: give both (HTTPS) or neither (plain HTTP)")
	case o.ReadToken != "" && o.Token == "":
		return errors.New("--read-token needs --token too (the dashboard itself needs the full token)")
	case o.ReadToken != "" && o.ReadToken == o.Token:
		return errors.New("--read-token must differ from --token")
	case o.MaxClients < 1:
		return fmt.Errorf("--max-clients %d must be at least 1", o.MaxClients)
	}
	switch o.LogFormat {
	case "auto", "text", "json":
	default:
		return fmt.Errorf("--log-format %q: want auto, text or json", o.LogFormat)
	}
	for _, origin := range o.CORSOrigins {
		if err := checkOrigin(origin); err != nil {
			return fmt.Errorf("--cors-origins: %w", err)
		}
	}
	for _, h := range o.AllowedHosts {
		if strings.ContainsAny(h, "/:@ ") && net.ParseIP(h) == nil {
			return fmt.Errorf("--allowed-hosts: %q is not a host name (give names like vitals.example.com, without port or scheme)", h)
		}
	}
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return fmt.Errorf("--addr %q is not host:port: give e.g. 127.0.0.1:8080, or :8080 for every interface", addr)
	}
	if o.Token == "" && !o.Insecure && !isLoopbackAddr(addr) {
		return fmt.Errorf("refusing to serve on --addr %s without an access token: anyone who can reach it could read this host's metrics. "+
			"Set VITALS_TOKEN (or --token-file), or pass --insecure to serve without one", addr)
	}
	return nil
}

func readTokenFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	defer f.Close()
	buf := make([]byte, maxTokenFile+1)
	n, _ := f.Read(buf)
	if n > maxTokenFile {
		return "", fmt.Errorf("--token-file %s is too large for a token", path)
	}
	tok, _, _ := strings.Cut(string(buf[:n]), "\n")
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return "", fmt.Errorf("--token-file %s is empty", path)
	}
	return tok, nil
}

// checkOrigin accepts "*" or a serialised origin: scheme://host[:port],
// nothing more (browsers send exactly that in Origin, so anything else
// could never match).
func checkOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q is not an origin like https://example.com or http://localhost:3000", o)
	}
	return nil
}

// isLoopbackAddr reports whether a listen address only accepts local
// connections: localhost or a loopback IP. An empty host means every
// interface, so it is not loopback.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// commaList is a flag holding "a,b,c"; blanks are dropped.
type commaList []string

func (l *commaList) String() string { return strings.Join(*l, ",") }

func (l *commaList) Set(s string) error {
	*l = nil
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// plainHTTPWarning is the one line logged at start when --addr reaches
// other machines over plain HTTP: tokens, cookies and metrics then cross
// the network readable by anyone on the path. "" when nothing travels in
// clear (loopback only, or TLS).
func plainHTTPWarning(addr, token string, tls bool) string {
	if tls || isLoopbackAddr(addr) {
		return ""
	}
	what := "metrics travel"
	if token != "" {
		what = "the access token and the metrics travel"
	}
	return "serving plain HTTP on " + addr + ": " + what + " unencrypted; serve HTTPS with --tls-cert and --tls-key, " +
		"or put a TLS proxy in front (nginx and Caddy recipes in docs/operations.md)"
}
