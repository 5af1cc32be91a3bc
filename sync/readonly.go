package sync

import (
	"bytes"
	"time"
)

// readOnlyDeniedEvery rate-limits the permission-denied message a
// read-only session gets for its edits: an editor bound to a viewer's
// document sends one update per keystroke, and one notice is enough.
const readOnlyDeniedEvery = 10 * time.Second

// readOnlyDeniedText is the reason y-websocket clients log.
const readOnlyDeniedText = "read-only access: this token may view the document but not edit it; your changes were not saved"

// refuseReadOnly tells a read-only y-websocket session, with y-protocols'
// auth permission-denied message, that an update it sent was refused (the
// document is left unchanged; the session stays open and keeps receiving).
// A step 2 or update that holds nothing the document lacks is not an edit
// (clients answer our state vector with what they have) and is not
// refused. Hocuspocus sessions get SyncStatus 0 instead (ackSyncStatus).
func (r *room) refuseReadOnly(s *session, in inbound) {
	if s.info.syncStatus || bytes.Equal(in.payload, emptyUpdate) {
		return
	}
	now := time.Now()
	if !s.deniedAt.IsZero() && now.Sub(s.deniedAt) < readOnlyDeniedEvery {
		return // told lately; spare the (whole-document) containment check
	}
	if r.containsUpdate(in.payload) {
		return
	}
	s.deniedAt = now
	r.hub.log.Debug("read-only session's update refused", "doc", r.id, "session", s.id, "remote", s.info.RemoteAddr)
	if !s.enqueue(&outMsg{data: encodePermissionDenied(readOnlyDeniedText)}) {
		r.drop(s, SlowConsumer, "")
	}
}
