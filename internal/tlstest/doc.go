// Package tlstest makes the certificates tests serve HTTPS with: a fresh
// self-signed ECDSA pair for localhost and 127.0.0.1, written as the PEM
// files --tls-cert and --tls-key take. One helper for the app's reload
// test, the end-to-end HTTPS browser test and the HTTP/2 fan-out benchmark.
//
// # Concurrency
//
// Write has no shared state; call it from any goroutine. It starts nothing.
package tlstest
