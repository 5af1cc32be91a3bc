package sync

import (
	"bytes"

	"github.com/quire/quire/crdt"
)

// The room's part of the Hocuspocus protocol: the SyncStatus answer to each
// sync step 2 and update a Hocuspocus provider sends. The provider counts
// one unsynced change per message and takes one off per SyncStatus 1, in
// order, so every such message gets exactly one answer, held like the
// room's other sends until the updates before it are durable: a
// SyncStatus 1 means "on disk", not "in memory".

// answerStep1 sends a Hocuspocus session the room's state vector in answer
// to each sync step 1 it sends, as Hocuspocus does (rather than once on
// join): the provider counts one unsynced change when it sends step 1 and
// takes it off when the step 2 it sends back is acknowledged. Without this,
// forceSync (a periodic step 1) would leave that count at 1 for good.
func (r *room) answerStep1(s *session) {
	if s.info.syncStatus && !s.enqueue(&outMsg{data: encodeSyncStep1(r.doc.EncodeStateVector())}) {
		r.drop(s, SlowConsumer, "")
	}
}

// ackSyncStatus queues the SyncStatus answer to in, an update s sent that
// the room has just applied (or refused, for a read-only session).
func (r *room) ackSyncStatus(s *session, in inbound) {
	if !s.info.syncStatus {
		return
	}
	saved := true
	if s.info.ReadOnly && !bytes.Equal(in.payload, emptyUpdate) {
		// As Hocuspocus does: a read-only client's step 2 is fine when it
		// holds nothing the document lacks; any other write is refused.
		saved = in.step2 && r.containsUpdate(in.payload)
	}
	r.hold(heldMsg{idx: r.applied, msg: syncStatusMsg(saved), to: s})
}

var (
	syncStatusSaved   = &outMsg{data: encodeSyncStatus(true)}
	syncStatusRefused = &outMsg{data: encodeSyncStatus(false)}
)

func syncStatusMsg(saved bool) *outMsg {
	if saved {
		return syncStatusSaved
	}
	return syncStatusRefused
}

// containsUpdate reports whether applying update would leave the document
// as it is: no structs beyond its state vector, no deletions it lacks. It
// costs a merge of the whole document, so it is only used for the rare
// read-only writer.
func (r *room) containsUpdate(update []byte) bool {
	usv, err := crdt.EncodeStateVectorFromUpdate(update)
	if err != nil {
		return false
	}
	theirs, err := crdt.DecodeStateVector(usv)
	if err != nil {
		return false
	}
	ours := r.doc.StateVector()
	for client, clock := range theirs {
		if clock > ours[client] {
			return false
		}
	}
	full, err := r.doc.EncodeStateAsUpdate(nil)
	if err != nil {
		return false
	}
	before, err := crdt.MergeUpdates([][]byte{full, emptyUpdate})
	if err != nil {
		return false
	}
	after, err := crdt.MergeUpdates([][]byte{full, update})
	return err == nil && bytes.Equal(before, after)
}
