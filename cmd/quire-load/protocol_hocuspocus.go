package main

import (
	"fmt"
	"net/url"

	"github.com/quire/quire/crdt"
)

// hocuspocus is the Hocuspocus 4 protocol as @hocuspocus/provider speaks
// it: every message starts with the document's name, the socket URL is the
// same for every document, and the token goes in an Auth message. Each
// simulated editor still has its own socket (one document per socket).
type hocuspocus struct{ token string }

// Hocuspocus message types and sub-types.
const (
	hpSync       = 0
	hpAwareness  = 1
	hpAuth       = 2
	hpQueryAware = 3
	hpStateless  = 5
	hpClose      = 7
	hpSyncStatus = 8
	hpPing       = 9
	hpPong       = 10

	hpAuthToken            = 0
	hpAuthPermissionDenied = 1
	hpAuthAuthenticated    = 2
)

func (hocuspocus) docURL(base *url.URL, _, _ string) *url.URL {
	u := *base
	return &u
}

func hpAddressed(doc string, body func(e *crdt.Encoder)) []byte {
	var e crdt.Encoder
	e.WriteVarString(doc)
	body(&e)
	return e.Bytes()
}

// hello authenticates, then asks for the whole document, as the provider
// does on open (it sends its step 1 right behind the Auth).
func (h hocuspocus) hello(doc string) [][]byte {
	auth := hpAddressed(doc, func(e *crdt.Encoder) {
		e.WriteVarUint(hpAuth)
		e.WriteVarUint(hpAuthToken)
		e.WriteVarString(h.token)
		e.WriteVarString("quire-load")
	})
	step1 := hpAddressed(doc, func(e *crdt.Encoder) {
		e.WriteVarUint(hpSync)
		e.WriteVarUint(ySyncStep1)
		e.WriteVarBytes([]byte{0}) // empty state vector
	})
	return [][]byte{auth, step1}
}

func (hocuspocus) appendUpdate(dst []byte, doc string, update []byte) []byte {
	e := crdt.Encoder{}
	e.WriteVarString(doc)
	e.WriteUint8(hpSync)
	e.WriteUint8(ySyncUpdate)
	e.WriteVarUint(uint64(len(update)))
	dst = append(dst, e.Bytes()...)
	return append(dst, update...)
}

var hpPongFrame = []byte{hpPong}

func (hocuspocus) parse(doc string, msg []byte) (incoming, error) {
	if len(msg) == 1 && (msg[0] == hpPing || msg[0] == hpPong) {
		if msg[0] == hpPing {
			return incoming{kind: msgOther, reply: hpPongFrame}, nil
		}
		return incoming{kind: msgOther}, nil
	}
	d := crdt.NewDecoder(msg)
	addr, err := d.ReadVarString()
	if err != nil {
		return incoming{}, fmt.Errorf("%w: address: %w", errProtocol, err)
	}
	if addr != doc {
		return incoming{}, fmt.Errorf("%w: message for %q on the socket of %q", errProtocol, addr, doc)
	}
	typ, err := d.ReadVarUint()
	if err != nil {
		return incoming{}, fmt.Errorf("%w: message without type", errProtocol)
	}
	switch typ {
	case hpSync:
		// Nothing the server lacks: an empty update (no structs, no deletes).
		return parseSync(d, func() []byte {
			return hpAddressed(doc, func(e *crdt.Encoder) {
				e.WriteVarUint(hpSync)
				e.WriteVarUint(ySyncStep2)
				e.WriteVarBytes([]byte{0, 0})
			})
		})
	case hpAuth:
		sub, err := d.ReadVarUint()
		if err != nil {
			return incoming{}, fmt.Errorf("%w: auth message without sub-type", errProtocol)
		}
		if sub == hpAuthPermissionDenied {
			reason, _ := d.ReadVarString()
			return incoming{kind: msgDenied, text: reason}, nil
		}
		return incoming{kind: msgOther}, nil
	case hpClose:
		reason, _ := d.ReadVarString()
		return incoming{kind: msgDenied, text: "document closed by the server: " + reason}, nil
	case hpAwareness, hpQueryAware, hpStateless, hpSyncStatus:
		return incoming{kind: msgOther}, nil
	}
	return incoming{}, fmt.Errorf("%w: unknown message type %d", errProtocol, typ)
}
