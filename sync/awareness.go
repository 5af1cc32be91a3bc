package sync

import (
	"slices"
	"time"
)

// awareness is a room's view of its clients' awareness states (cursors,
// names, colours), applied with the rules of y-protocols' awareness.js so
// that stale or replayed entries are ignored. Owned by the room goroutine.
type awareness struct {
	clients map[uint64]*awarenessClient
}

type awarenessClient struct {
	clock       uint64
	state       string // JSON; "" once removed (the clock is kept to reject replays)
	lastUpdated time.Time
	owner       *session // session that last sent a state for this client
}

// apply merges entries sent by from and returns the entries that changed
// the room's view, to relay to every session. Like applyAwarenessUpdate, an
// entry wins when its clock is newer, or when it removes a live state at
// the same clock.
func (a *awareness) apply(entries []awarenessEntry, from *session, now time.Time) []awarenessEntry {
	var accepted []awarenessEntry
	for _, en := range entries {
		c := a.clients[en.clientID]
		var curClock uint64
		live := false
		if c != nil {
			curClock = c.clock
			live = c.state != ""
		}
		if !(curClock < en.clock || (curClock == en.clock && en.removed() && live)) {
			continue
		}
		if a.clients == nil {
			a.clients = make(map[uint64]*awarenessClient)
		}
		if c == nil {
			c = &awarenessClient{}
			a.clients[en.clientID] = c
		}
		prevOwner := c.owner
		c.clock = en.clock
		c.lastUpdated = now
		if en.removed() {
			c.state = ""
			c.owner = nil
		} else {
			c.state = en.state
			c.owner = from
		}
		if prevOwner != c.owner {
			if prevOwner != nil {
				prevOwner.awarenessIDs = deleteID(prevOwner.awarenessIDs, en.clientID)
			}
			if c.owner != nil && !slices.Contains(c.owner.awarenessIDs, en.clientID) {
				c.owner.awarenessIDs = append(c.owner.awarenessIDs, en.clientID)
			}
		}
		accepted = append(accepted, en)
	}
	return accepted
}

// removalsFor returns the room's removal of each client that entries try
// to bring back with a clock the removal already covers. A client that
// reconnects after its session ended announces its state with its old
// clock, which the room and every peer ignore, so it would stay invisible
// until its renewal clock passes the removal (15-30 s). Sent its removal, a
// y-protocols client bumps its clock and announces itself again at once
// (awareness.js: a remote removal of the local state).
func (a *awareness) removalsFor(entries []awarenessEntry) []awarenessEntry {
	var out []awarenessEntry
	for _, en := range entries {
		if c := a.clients[en.clientID]; c != nil && c.state == "" && !en.removed() && c.clock >= en.clock {
			out = append(out, awarenessEntry{clientID: en.clientID, clock: c.clock, state: "null"})
		}
	}
	return out
}

// removeOwnedBy drops the live states s controlled and returns the removal
// entries to broadcast (same clock, state null, as removeAwarenessStates).
func (a *awareness) removeOwnedBy(s *session) []awarenessEntry {
	var out []awarenessEntry
	for _, id := range s.awarenessIDs {
		c := a.clients[id]
		if c == nil || c.owner != s || c.state == "" {
			continue
		}
		c.state = ""
		c.owner = nil
		out = append(out, awarenessEntry{clientID: id, clock: c.clock, state: "null"})
	}
	s.awarenessIDs = nil
	return out
}

// expire drops states not renewed within timeout (clients renew every 15 s)
// and returns the removal entries to broadcast.
func (a *awareness) expire(now time.Time, timeout time.Duration) []awarenessEntry {
	var out []awarenessEntry
	for id, c := range a.clients {
		if c.state == "" || now.Sub(c.lastUpdated) < timeout {
			continue
		}
		c.state = ""
		if c.owner != nil {
			c.owner.awarenessIDs = deleteID(c.owner.awarenessIDs, id)
			c.owner = nil
		}
		out = append(out, awarenessEntry{clientID: id, clock: c.clock, state: "null"})
	}
	return out
}

// live returns every current state, for a joining session or a query.
func (a *awareness) live() []awarenessEntry {
	var out []awarenessEntry
	for id, c := range a.clients {
		if c.state != "" {
			out = append(out, awarenessEntry{clientID: id, clock: c.clock, state: c.state})
		}
	}
	return out
}

func deleteID(ids []uint64, id uint64) []uint64 {
	if i := slices.Index(ids, id); i >= 0 {
		ids = slices.Delete(ids, i, i+1)
	}
	if len(ids) == 0 {
		return nil
	}
	return ids
}
