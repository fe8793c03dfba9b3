// Package views renders the dashboard page with templ.
//
// Components take view models only (Dashboard and its parts), built by pure
// functions in dashboard.go from plain inputs: of the project the package
// imports only the leaf hostinfo (the host description, which the header
// is derived from by newHost), so handlers convert their Config into an
// Input and the view models are table-tested without HTTP. The page is static apart from
// these values; the live data arrive through /events and /api/history and
// are put on the page by static/app.js, always as text.
//
// The generated *_templ.go files are committed; regenerate them with
// `go tool templ generate` from the repository root.
//
// # Concurrency
//
// Everything here is a pure function of its arguments: view models and
// components may be built and rendered from any number of request
// goroutines at once.
package views
