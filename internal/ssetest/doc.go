// Package ssetest is the tests' HTTP client for vitals: Do sends one
// request and returns the response with its body read, Open reads a
// Server-Sent Events response block by block, as the SSE specification
// parses it (lines ended by CR, LF or CRLF; "field: value" with one space
// stripped; data lines joined by LF; comments kept so tests can see
// heartbeats), with a timeout on every wait.
//
// It is for tests only. history's spec-exact parser, which the encoder is
// fuzzed against, is deliberately not this one: an oracle must not share
// code with the client tests use day to day.
//
// # Concurrency
//
// A Stream owns one goroutine that reads its body into a small buffer of
// blocks, so a read can give up after a timeout. Close (run at the test's
// cleanup) closes the body and waits for that goroutine. A Stream's
// methods are meant for one goroutine, the test's.
package ssetest
