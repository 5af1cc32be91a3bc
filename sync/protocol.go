package sync

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/quire/quire/crdt"
)

// y-protocols over y-websocket: every WebSocket binary message starts with a
// var-uint message type. Sync messages carry a sub-type and a var-bytes
// payload (a state vector or a v1 update); awareness messages carry a
// var-bytes awareness update; auth carries a sub-type and a reason.
const (
	msgSync           = 0
	msgAwareness      = 1
	msgAuth           = 2
	msgQueryAwareness = 3

	syncStep1  = 0
	syncStep2  = 1
	syncUpdate = 2

	authPermissionDenied = 0
)

// ErrMalformed is wrapped by every protocol decoding error.
var ErrMalformed = errors.New("sync: malformed message")

// inboundKind says what a client message asks the room to do.
type inboundKind uint8

const (
	inIgnored        inboundKind = iota // a type the server does not act on (auth, unknown)
	inSyncStep1                         // payload: encoded state vector
	inUpdate                            // payload: v1 update (sync step 2 or update)
	inAwareness                         // awareness entries
	inQueryAwareness                    // no payload
)

// inbound is a decoded client message. payload aliases the frame.
type inbound struct {
	kind      inboundKind
	payload   []byte
	awareness []awarenessEntry
	step2     bool // inUpdate came as sync step 2 (Hocuspocus acks it differently when read-only)
}

// awarenessEntry is one client's awareness state in an awareness update.
// state is the JSON text as sent; "null" means the client went away.
type awarenessEntry struct {
	clientID uint64
	clock    uint64
	state    string
}

func (e awarenessEntry) removed() bool { return e.state == "null" }

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// decodeInbound parses one client frame. Trailing bytes after the payload are
// ignored, as y-protocols does.
func decodeInbound(frame []byte) (inbound, error) {
	d := crdt.NewDecoder(frame)
	typ, err := d.ReadVarUint()
	if err != nil {
		return inbound{}, malformed("message type: %v", err)
	}
	switch typ {
	case msgSync:
		sub, err := d.ReadVarUint()
		if err != nil {
			return inbound{}, malformed("sync message type: %v", err)
		}
		payload, err := d.ReadVarBytes()
		if err != nil {
			return inbound{}, malformed("sync payload: %v", err)
		}
		switch sub {
		case syncStep1:
			if _, err := crdt.DecodeStateVector(payload); err != nil {
				return inbound{}, malformed("sync step 1 state vector: %v", err)
			}
			return inbound{kind: inSyncStep1, payload: payload}, nil
		case syncStep2, syncUpdate:
			return inbound{kind: inUpdate, payload: payload, step2: sub == syncStep2}, nil
		default:
			return inbound{}, malformed("unknown sync message type %d", sub)
		}
	case msgAwareness:
		payload, err := d.ReadVarBytes()
		if err != nil {
			return inbound{}, malformed("awareness payload: %v", err)
		}
		entries, err := decodeAwarenessUpdate(payload)
		if err != nil {
			return inbound{}, err
		}
		return inbound{kind: inAwareness, awareness: entries}, nil
	case msgQueryAwareness:
		return inbound{kind: inQueryAwareness}, nil
	default:
		// Auth messages come only from servers; unknown types are ignored
		// like y-websocket does, so newer clients keep working.
		return inbound{kind: inIgnored}, nil
	}
}

// maxAwarenessEntries bounds one awareness update; real clients send one.
const maxAwarenessEntries = 4096

func decodeAwarenessUpdate(b []byte) ([]awarenessEntry, error) {
	d := crdt.NewDecoder(b)
	n, err := d.ReadVarUint()
	if err != nil {
		return nil, malformed("awareness count: %v", err)
	}
	if n > maxAwarenessEntries || n > uint64(d.Len()) {
		return nil, malformed("awareness count %d too large", n)
	}
	entries := make([]awarenessEntry, 0, n)
	for i := uint64(0); i < n; i++ {
		id, err := d.ReadVarUint()
		if err != nil {
			return nil, malformed("awareness client id: %v", err)
		}
		clock, err := d.ReadVarUint()
		if err != nil {
			return nil, malformed("awareness clock: %v", err)
		}
		state, err := d.ReadVarString()
		if err != nil {
			return nil, malformed("awareness state: %v", err)
		}
		if !json.Valid([]byte(state)) {
			return nil, malformed("awareness state of client %d is not JSON", id)
		}
		entries = append(entries, awarenessEntry{clientID: id, clock: clock, state: state})
	}
	return entries, nil
}

func encodeSyncStep1(sv []byte) []byte     { return encodeSync(syncStep1, sv) }
func encodeSyncStep2(update []byte) []byte { return encodeSync(syncStep2, update) }
func encodeUpdate(update []byte) []byte    { return encodeSync(syncUpdate, update) }

// encodeSync frames payload as a messageSync of the given sub-type.
func encodeSync(sub uint64, payload []byte) []byte {
	e := crdt.NewEncoderSize(len(payload) + 8)
	e.WriteVarUint(msgSync)
	e.WriteVarUint(sub)
	e.WriteVarBytes(payload)
	return e.Bytes()
}

// encodeAwareness wraps entries as a messageAwareness frame.
func encodeAwareness(entries []awarenessEntry) []byte {
	var inner crdt.Encoder
	inner.WriteVarUint(uint64(len(entries)))
	for _, en := range entries {
		inner.WriteVarUint(en.clientID)
		inner.WriteVarUint(en.clock)
		inner.WriteVarString(en.state)
	}
	e := crdt.NewEncoderSize(inner.Len() + 6)
	e.WriteVarUint(msgAwareness)
	e.WriteVarBytes(inner.Bytes())
	return e.Bytes()
}

func encodeQueryAwareness() []byte { return []byte{msgQueryAwareness} }

// encodePermissionDenied is the auth message y-websocket clients log before
// the server closes the socket with 4401/4403.
func encodePermissionDenied(reason string) []byte {
	var e crdt.Encoder
	e.WriteVarUint(msgAuth)
	e.WriteVarUint(authPermissionDenied)
	e.WriteVarString(reason)
	return e.Bytes()
}
