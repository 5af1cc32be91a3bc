package main

import "github.com/quire/quire/crdt"

// Yjs v1 update bytes, built directly: a simulated editor holds no document,
// only its client id and next clock. crdt.ScanStrings reads the updates back.

// textRoot is the name of the Y.Text root every simulated editor appends to.
const textRoot = "t"

// The parts of a Yjs struct info byte the tool writes (crdt keeps the whole
// format unexported): the content ref of a string and the flag for an
// origin. TestAppendUpdateMatchesYjs pins the bytes to what real Yjs writes.
const (
	refString     = 4
	infoHasOrigin = 0x80
)

// appendAppendUpdate writes to enc the v1 update of one Item with
// ContentString text, created by client at clock. The first item of a client
// (clock 0) has no origin and goes at the start of the Text root; later ones
// name the client's own last character (clock-1) as origin, so each editor's
// text stays one contiguous run. text must be ASCII: Yjs clocks count UTF-16
// units and the caller advances clock by len(text).
func appendAppendUpdate(enc *crdt.Encoder, client, clock uint64, text []byte) {
	enc.WriteVarUint(1) // one client
	enc.WriteVarUint(1) // one struct
	enc.WriteVarUint(client)
	enc.WriteVarUint(clock)
	appendStringItem(enc, client, clock, text)
	enc.WriteVarUint(0) // empty delete set
}

// appendStringItem writes the struct of appendAppendUpdate's item alone,
// for updates that hold several.
func appendStringItem(enc *crdt.Encoder, client, clock uint64, text []byte) {
	if clock == 0 {
		enc.WriteUint8(refString)
		enc.WriteVarUint(1) // parent is a root type named by a string
		enc.WriteVarString(textRoot)
	} else {
		enc.WriteUint8(infoHasOrigin | refString)
		enc.WriteVarUint(client)
		enc.WriteVarUint(clock - 1)
	}
	enc.WriteVarBytes(text) // same bytes as writeVarString for ASCII
}
