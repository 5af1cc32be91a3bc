// Package sync runs live collaboration: the wire protocols, one room
// goroutine per open document, sessions, the hub and persistence calls.
package sync
