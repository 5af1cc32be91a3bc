// Package sync runs live collaboration: the y-protocols wire protocol
// (sync step 1/2, updates, awareness, query-awareness, auth), one room
// goroutine per open document, sessions, the hub that loads and unloads
// rooms, back-pressure, and the group commit to storage.
//
// # Use
//
//	hub, _ := sync.NewHub(sync.Config{Store: store, Metrics: m, Logger: log})
//	reason := hub.Serve(ctx, docID, conn, sync.SessionInfo{...}) // one client, until it ends
//	err := hub.Do(ctx, docID, func(doc *crdt.Doc) ([]byte, error) {...}) // server-side read/edit
//	hub.CloseDoc(ctx, docID, sync.DocumentDeleted)                       // end every session of a doc
//	hub.Shutdown(ctx)                                                    // flush, 1012, snapshot
//
// Conn is the transport (httpapi adapts coder/websocket); Metrics receives
// measurements (httpapi exports them to Prometheus). Every way a session
// ends is a CloseReason with its close code.
//
// # Ownership
//
// A room's goroutine is the only code that touches its crdt.Doc, its
// session set and its awareness view; everything else posts to its inbox.
// Each session has a byte-capped send queue drained by a writer goroutine
// that exists only while there is something to send; the room never blocks
// on a client. That writer is the session's only writer of data frames and
// also writes its close frame, after the frame in flight, so a close never
// races a data write for the socket; keepalive pings go only to a session
// whose writer is idle and whose reader is not waiting on the room. The committer goroutine writes the updates of every room in
// one storage.Append; a room forwards an update (to every session, the
// sender included) only once it is durable, and keeps applying new ones
// meanwhile.
//
// A multi-node engine (NATS) would replace the committer and feed rooms
// remote updates through the same inbox; Conn, Metrics and storage.Store
// are the seams.
package sync
