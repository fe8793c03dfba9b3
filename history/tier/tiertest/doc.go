// Package tiertest is an in-memory tier.Store for tests of what reads the
// rollups (the range query, the API, the dashboard), so they need neither
// a bbolt file nor Redis.
//
// # Concurrency
//
// A Mem is safe for concurrent use: one mutex guards its points.
package tiertest
