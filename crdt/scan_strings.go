package crdt

import "fmt"

// ScanStrings calls fn with the text of every string item (Yjs
// ContentString) of a v1 update, in the order the update lists them,
// without building a Doc and without copying: each slice aliases update and
// holds the text as encoded (UTF-8). Other structs are skipped, not checked,
// and the delete set is not read. It suits a client that only watches text
// go by, such as a load generator reading its peers' edits. Errors wrap
// ErrMalformed.
func ScanStrings(update []byte, fn func(text []byte)) error {
	d := NewDecoder(update)
	clients, err := d.ReadVarUint()
	if err != nil {
		return malformedUpdate("reading number of clients: %v", err)
	}
	for range clients {
		numStructs, err := d.ReadVarUint()
		if err != nil {
			return malformedUpdate("reading number of structs: %v", err)
		}
		if err := skipVarUints(d, 2); err != nil { // client, clock
			return malformedUpdate("reading client and clock: %v", err)
		}
		for range numStructs {
			if err := scanStruct(d, fn); err != nil {
				return malformedUpdate("reading struct: %v", err)
			}
		}
	}
	return nil
}

func scanStruct(d *Decoder, fn func(text []byte)) error {
	info, err := d.ReadUint8()
	if err != nil {
		return err
	}
	ref := info & infoContentRef
	if ref == refGC || ref == refSkip {
		_, err := d.ReadVarUint() // length
		return err
	}
	if info&infoOrigin != 0 {
		if err := skipVarUints(d, 2); err != nil {
			return err
		}
	}
	if info&infoRightOrigin != 0 {
		if err := skipVarUints(d, 2); err != nil {
			return err
		}
	}
	if info&(infoOrigin|infoRightOrigin) == 0 {
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
		if info&infoParentSub != 0 {
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
		k, err := d.ReadVarUint()
		if err != nil {
			return err
		}
		if k == uint64(kindXmlElement) || k == uint64(kindXmlHook) {
			return skipVarBytes(d, 1) // the element's name
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
		if err := skipVarBytes(d, 1); err != nil { // guid
			return err
		}
		_, err := d.ReadAny() // options
		return err
	default:
		return fmt.Errorf("unknown content ref %d", ref)
	}
}

func skipVarUints(d *Decoder, n int) error {
	for range n {
		if _, err := d.ReadVarUint(); err != nil {
			return err
		}
	}
	return nil
}

func skipVarBytes(d *Decoder, n uint64) error {
	for range n {
		if _, err := d.ReadVarBytes(); err != nil {
			return err
		}
	}
	return nil
}
