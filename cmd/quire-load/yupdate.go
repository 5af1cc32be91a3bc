package main

import (
	"errors"
	"fmt"

	"github.com/quire/quire/crdt"
)

// Yjs v1 update bytes, built and read directly: a simulated editor holds no
// document, only its client id and next clock.

// textRoot is the name of the Y.Text root every simulated editor appends to.
const textRoot = "t"

// Yjs struct info byte: the low 5 bits are the content ref, the top bits
// say which of origin, right origin and parent sub follow.
const (
	infoHasOrigin      = 0x80
	infoHasRightOrigin = 0x40
	infoHasParentSub   = 0x20
	infoContentMask    = 0x1f

	refGC      = 0
	refDeleted = 1
	refJSON    = 2
	refBinary  = 3
	refString  = 4
	refEmbed   = 5
	refFormat  = 6
	refType    = 7
	refAny     = 8
	refDoc     = 9
	refSkip    = 10

	// Type refs (ContentType) followed by a key string.
	typeRefXmlElement = 3
	typeRefXmlHook    = 5
)

// errUpdateMalformed wraps every failure to read an update.
var errUpdateMalformed = errors.New("malformed Yjs update")

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
	enc.WriteVarUint(0)     // empty delete set
}

// scanStrings calls fn with the text of every ContentString item in a v1
// update, in the order written. It skips all other structs and the delete
// set. The slices alias update.
func scanStrings(update []byte, fn func(s []byte)) error {
	d := crdt.NewDecoder(update)
	clients, err := d.ReadVarUint()
	if err != nil {
		return fmt.Errorf("%w: %w", errUpdateMalformed, err)
	}
	for range clients {
		numStructs, err := d.ReadVarUint()
		if err != nil {
			return fmt.Errorf("%w: %w", errUpdateMalformed, err)
		}
		if _, err := d.ReadVarUint(); err != nil { // client
			return fmt.Errorf("%w: %w", errUpdateMalformed, err)
		}
		if _, err := d.ReadVarUint(); err != nil { // clock
			return fmt.Errorf("%w: %w", errUpdateMalformed, err)
		}
		for range numStructs {
			if err := scanStruct(d, fn); err != nil {
				return fmt.Errorf("%w: %w", errUpdateMalformed, err)
			}
		}
	}
	return nil // the delete set follows; nothing in it carries text
}

func scanStruct(d *crdt.Decoder, fn func(s []byte)) error {
	info, err := d.ReadUint8()
	if err != nil {
		return err
	}
	ref := info & infoContentMask
	if ref == refGC || ref == refSkip {
		_, err := d.ReadVarUint() // length
		return err
	}
	if info&infoHasOrigin != 0 {
		if err := skipVarUints(d, 2); err != nil {
			return err
		}
	}
	if info&infoHasRightOrigin != 0 {
		if err := skipVarUints(d, 2); err != nil {
			return err
		}
	}
	if info&(infoHasOrigin|infoHasRightOrigin) == 0 {
		isKey, err := d.ReadVarUint()
		if err != nil {
			return err
		}
		if isKey == 1 {
			if _, err := d.ReadVarBytes(); err != nil { // root name
				return err
			}
		} else if err := skipVarUints(d, 2); err != nil { // parent id
			return err
		}
		if info&infoHasParentSub != 0 {
			if _, err := d.ReadVarBytes(); err != nil {
				return err
			}
		}
	}
	switch ref {
	case refString:
		s, err := d.ReadVarBytes()
		if err != nil {
			return err
		}
		fn(s)
		return nil
	case refDeleted:
		_, err := d.ReadVarUint()
		return err
	case refJSON:
		n, err := d.ReadVarUint()
		if err != nil {
			return err
		}
		return skipVarBytes(d, n)
	case refBinary, refEmbed:
		return skipVarBytes(d, 1)
	case refFormat:
		return skipVarBytes(d, 2)
	case refType:
		t, err := d.ReadVarUint()
		if err != nil {
			return err
		}
		if t == typeRefXmlElement || t == typeRefXmlHook {
			return skipVarBytes(d, 1)
		}
		return nil
	case refAny:
		n, err := d.ReadVarUint()
		if err != nil {
			return err
		}
		for range n {
			if _, err := d.ReadAny(); err != nil {
				return err
			}
		}
		return nil
	case refDoc:
		if err := skipVarBytes(d, 1); err != nil {
			return err
		}
		_, err := d.ReadAny()
		return err
	default:
		return fmt.Errorf("unknown content ref %d", ref)
	}
}

func skipVarUints(d *crdt.Decoder, n int) error {
	for range n {
		if _, err := d.ReadVarUint(); err != nil {
			return err
		}
	}
	return nil
}

func skipVarBytes(d *crdt.Decoder, n uint64) error {
	for range n {
		if _, err := d.ReadVarBytes(); err != nil {
			return err
		}
	}
	return nil
}
