package sync

import (
	"strings"

	"github.com/quire/quire/crdt"
)

// Hocuspocus 4 framing. Every message but Ping and Pong starts with a
// var-string address: the document name, or name + "\x00" + a session id
// when one provider attaches the same document more than once. The rest
// is a var-uint message type and its body; Sync, Awareness and
// QueryAwareness bodies are exactly y-protocols' (what /ws speaks), so a
// document's session reads and writes them unchanged behind the address.
const (
	hpSync               = 0
	hpAwareness          = 1
	hpAuth               = 2
	hpQueryAwareness     = 3
	hpSyncReply          = 4 // a Sync that asks for no step 1 in return
	hpStateless          = 5
	hpBroadcastStateless = 6
	hpClose              = 7
	hpSyncStatus         = 8
	hpPing               = 9
	hpPong               = 10

	hpAuthToken            = 0
	hpAuthPermissionDenied = 1
	hpAuthAuthenticated    = 2
)

// Scope names as the provider reads them from Authenticated.
const (
	hpScopeReadWrite = "read-write"
	hpScopeReadOnly  = "readonly"
)

// hpAddressSeparator splits an address into document name and session id.
const hpAddressSeparator = "\x00"

// hpFrame is a decoded client message. body aliases the frame: it is what
// follows the message type.
type hpFrame struct {
	address string
	typ     uint64
	typeAt  int // offset of the message type in the frame
	body    []byte
}

// docName is the document an address names.
func (f hpFrame) docName() string {
	name, _, _ := strings.Cut(f.address, hpAddressSeparator)
	return name
}

// isBare reports whether frame is a bare Ping or Pong (no address). Those
// are one byte long; an addressed message is at least two.
func hpBare(frame []byte) (typ byte, ok bool) {
	if len(frame) == 1 && (frame[0] == hpPing || frame[0] == hpPong) {
		return frame[0], true
	}
	return 0, false
}

func decodeHPFrame(frame []byte) (hpFrame, error) {
	d := crdt.NewDecoder(frame)
	addr, err := d.ReadVarString()
	if err != nil {
		return hpFrame{}, malformed("hocuspocus address: %v", err)
	}
	at := len(frame) - d.Len()
	typ, err := d.ReadVarUint()
	if err != nil {
		return hpFrame{}, malformed("hocuspocus message type: %v", err)
	}
	return hpFrame{address: addr, typ: typ, typeAt: at, body: frame[len(frame)-d.Len():]}, nil
}

// decodeHPAuthToken reads an Auth body: sub-type Token, the token, and the
// provider's version when it sends one (4.x does).
func decodeHPAuthToken(body []byte) (token, version string, err error) {
	d := crdt.NewDecoder(body)
	sub, err := d.ReadVarUint()
	if err != nil {
		return "", "", malformed("auth message type: %v", err)
	}
	if sub != hpAuthToken {
		return "", "", malformed("auth message type %d: a client sends Token (0)", sub)
	}
	if token, err = d.ReadVarString(); err != nil {
		return "", "", malformed("auth token: %v", err)
	}
	if d.Len() > 0 {
		if version, err = d.ReadVarString(); err != nil {
			return "", "", malformed("provider version: %v", err)
		}
	}
	return token, version, nil
}

func decodeHPStateless(body []byte) (string, error) {
	s, err := crdt.NewDecoder(body).ReadVarString()
	if err != nil {
		return "", malformed("stateless payload: %v", err)
	}
	return s, nil
}

// hpAddressed prefixes a body (message type included) with an address.
func hpAddressed(address string, body []byte) []byte {
	e := crdt.NewEncoderSize(len(address) + len(body) + 5)
	e.WriteVarString(address)
	e.WriteBytes(body)
	return e.Bytes()
}

// encodeHPText is the common shape of the messages below: address, the
// message type (and subtype), then one string.
func encodeHPText(address, text string, types ...uint64) []byte {
	var e crdt.Encoder
	e.WriteVarString(address)
	for _, t := range types {
		e.WriteVarUint(t)
	}
	e.WriteVarString(text)
	return e.Bytes()
}

func encodeHPAuthenticated(address string, readOnly bool) []byte {
	scope := hpScopeReadWrite
	if readOnly {
		scope = hpScopeReadOnly
	}
	return encodeHPText(address, scope, hpAuth, hpAuthAuthenticated)
}

func encodeHPPermissionDenied(address, reason string) []byte {
	return encodeHPText(address, reason, hpAuth, hpAuthPermissionDenied)
}

func encodeHPStateless(address, payload string) []byte {
	return encodeHPText(address, payload, hpStateless)
}

func encodeHPClose(address, reason string) []byte {
	return encodeHPText(address, reason, hpClose)
}

// encodeSyncStatus is the unaddressed SyncStatus body a room queues; the
// document's connection adds the address.
func encodeSyncStatus(saved bool) []byte {
	v := byte(0)
	if saved {
		v = 1
	}
	return []byte{hpSyncStatus, v}
}

var (
	hpPingFrame = []byte{hpPing}
	hpPongFrame = []byte{hpPong}
)
