package app

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"sync/atomic"
)

// certificate is the --tls-cert/--tls-key pair the server presents. It is
// read at start and again on SIGHUP, so a renewed certificate (certbot,
// an ACME client, a secret rotation) takes effect without a restart and
// without dropping a stream: handshakes after the swap get the new pair,
// connections already open keep theirs.
type certificate struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// loadCertificate reads the pair, or says in one line why it can't.
func loadCertificate(certFile, keyFile string) (*certificate, error) {
	c := &certificate{certFile: certFile, keyFile: keyFile}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// reload reads the pair again; on an error the one in use stays.
func (c *certificate) reload() error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("--tls-cert %s / --tls-key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cur.Store(&pair)
	return nil
}

// getCertificate is tls.Config.GetCertificate.
func (c *certificate) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load(), nil
}

// tlsConfig serves the certificate. HTTP/2 is offered by net/http itself
// (ServeTLS adds "h2" to NextProtos).
func (c *certificate) tlsConfig() *tls.Config {
	return &tls.Config{GetCertificate: c.getCertificate, MinVersion: tls.VersionTLS12}
}

// reloadLogged is the certificate's part of a SIGHUP (see onHangup): it
// reloads the pair, and a failure is logged and the old pair kept, since a
// half-written renewal must not take the server down.
func (c *certificate) reloadLogged(log *slog.Logger) {
	if err := c.reload(); err != nil {
		log.Error("TLS certificate not reloaded: keeping the one in use", "err", err)
		return
	}
	log.Info("TLS certificate reloaded", "cert", c.certFile)
}
