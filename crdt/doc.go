// Package crdt is a Yjs 13.6-compatible CRDT: the v1 update format, the
// struct store, YATA integration and the shared types. It is pure: no I/O,
// no goroutines, no clocks, no logging. A Doc is owned by one goroutine.
package crdt
