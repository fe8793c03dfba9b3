// Command client_go follows a vitals /events stream and resumes it with
// Last-Event-ID after every disconnect, so it never misses or repeats an
// event.
//
//	go run ./docs/examples/client_go -url http://127.0.0.1:8080 -topics cpu,load
//
// Set VITALS_TOKEN if the server asks for a token.
package main
