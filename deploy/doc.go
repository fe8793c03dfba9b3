// Package deploy holds what installs vitals as a service: the hardened
// systemd unit vitals.service that `make install` puts in place and
// docs/operations.md shows. It has no Go code; its test installs the unit
// with the real Makefile and checks it with `systemd-analyze verify`, and
// checks that the documentation shows the same unit.
//
// # Concurrency
//
// Nothing here runs in the server.
package deploy
