package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/quire/quire/crdt"
)

// protocol is the wire dialect between a simulated editor and the server.
// Every method takes the document name so that a protocol that names the
// document in each message (Hocuspocus) fits the same shape.
type protocol interface {
	// docURL is the WebSocket URL an editor of doc connects to.
	docURL(base *url.URL, doc, token string) *url.URL
	// hello lists the messages a client sends right after the handshake:
	// at least a request for the server's whole document (sync step 1 with
	// an empty state vector), answered by a message of kind msgSyncDone.
	hello(doc string) [][]byte
	// appendUpdate appends to dst the message that carries a v1 update.
	appendUpdate(dst []byte, doc string, update []byte) []byte
	// parse reads one server message. The returned slices alias msg.
	parse(doc string, msg []byte) (incoming, error)
}

// msgKind says what a server message means to the load tool.
type msgKind int

const (
	msgOther    msgKind = iota // awareness and anything else the tool ignores
	msgSyncDone                // the answer to hello's request: update is the whole document
	msgUpdate                  // a live update from the server
	msgDenied                  // the server refused access; reason in text
)

// incoming is one parsed server message.
type incoming struct {
	kind   msgKind
	update []byte // for msgSyncDone and msgUpdate
	reply  []byte // a message to send back at once, if any
	text   string // for msgDenied
}

var errProtocol = errors.New("protocol error")

// newProtocol returns the protocol named by the -protocol flag.
func newProtocol(name, token string) (protocol, error) {
	switch name {
	case "ywebsocket":
		return yWebsocket{}, nil
	case "hocuspocus":
		return hocuspocus{token: token}, nil
	default:
		return nil, fmt.Errorf("unknown -protocol %q: supported: ywebsocket, hocuspocus", name)
	}
}

// yWebsocket is the y-websocket protocol: y-protocols sync and awareness
// messages, one document per socket at <base>/<doc>.
type yWebsocket struct{}

// y-protocols message types and sync sub-types.
const (
	yMsgSync           = 0
	yMsgAwareness      = 1
	yMsgAuth           = 2
	yMsgQueryAwareness = 3

	ySyncStep1  = 0
	ySyncStep2  = 1
	ySyncUpdate = 2

	yAuthPermissionDenied = 0
)

var (
	// yHello is sync step 1 with an empty state vector: "send me everything".
	yHello = []byte{yMsgSync, ySyncStep1, 1, 0}
	// yEmptyStep2 answers the server's step 1: an editor that has not
	// edited yet has nothing the server lacks (an update with no structs and
	// an empty delete set).
	yEmptyStep2 = []byte{yMsgSync, ySyncStep2, 2, 0, 0}
)

func (yWebsocket) docURL(base *url.URL, doc, token string) *url.URL {
	u := *base
	u.Path = strings.TrimSuffix(base.Path, "/") + "/" + doc
	u.RawPath = ""
	if token != "" {
		q := u.Query()
		q.Set("token", token)
		u.RawQuery = q.Encode()
	}
	return &u
}

func (yWebsocket) hello(string) [][]byte { return [][]byte{yHello} }

func (yWebsocket) appendUpdate(dst []byte, _ string, update []byte) []byte {
	e := crdt.Encoder{}
	e.WriteUint8(yMsgSync)
	e.WriteUint8(ySyncUpdate)
	e.WriteVarUint(uint64(len(update)))
	dst = append(dst, e.Bytes()...)
	return append(dst, update...)
}

func (yWebsocket) parse(_ string, msg []byte) (incoming, error) {
	d := crdt.NewDecoder(msg)
	typ, err := d.ReadVarUint()
	if err != nil {
		return incoming{}, fmt.Errorf("%w: empty message", errProtocol)
	}
	switch typ {
	case yMsgSync:
		return parseSync(d, func() []byte { return yEmptyStep2 })
	case yMsgAuth:
		sub, err := d.ReadVarUint()
		if err != nil {
			return incoming{}, fmt.Errorf("%w: auth message without sub-type", errProtocol)
		}
		if sub == yAuthPermissionDenied {
			reason, _ := d.ReadVarString()
			return incoming{kind: msgDenied, text: reason}, nil
		}
		return incoming{kind: msgOther}, nil
	case yMsgAwareness, yMsgQueryAwareness:
		return incoming{kind: msgOther}, nil
	default:
		return incoming{}, fmt.Errorf("%w: unknown message type %d", errProtocol, typ)
	}
}

// parseSync reads the rest of a y-protocols sync message, which both
// protocols carry the same way: a sub-type and a payload. step1Reply makes
// the answer to the server's sync step 1.
func parseSync(d *crdt.Decoder, step1Reply func() []byte) (incoming, error) {
	sub, err := d.ReadVarUint()
	if err != nil {
		return incoming{}, fmt.Errorf("%w: sync message without sub-type", errProtocol)
	}
	payload, err := d.ReadVarBytes()
	if err != nil {
		return incoming{}, fmt.Errorf("%w: sync message: %w", errProtocol, err)
	}
	switch sub {
	case ySyncStep1:
		return incoming{kind: msgOther, reply: step1Reply()}, nil
	case ySyncStep2:
		return incoming{kind: msgSyncDone, update: payload}, nil
	case ySyncUpdate:
		return incoming{kind: msgUpdate, update: payload}, nil
	}
	return incoming{}, fmt.Errorf("%w: unknown sync sub-type %d", errProtocol, sub)
}
