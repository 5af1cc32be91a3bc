package crdt

import (
	"encoding/json"
	"fmt"
)

// decodedUpdate is a v1 update decoded without a Doc: the structs of each
// client (Items, GC and Skip structs, not yet integrated) and the delete
// set, in the order they were written. It is the common ground for
// ApplyUpdate and for functions that work on raw updates.
type decodedUpdate struct {
	// clients lists each client's structs, sorted by clock. A client that
	// appears twice keeps its last entry, as in Yjs.
	clients map[uint64][]*item
	// clientOrder is the order clients appeared in.
	clientOrder []uint64
	ds          []dsEntry
}

// dsEntry is one client's part of an encoded delete set, as written.
type dsEntry struct {
	client uint64
	dels   []deleteItem
}

// deleteSet returns the decoded deletions as a deleteSet (not sorted).
func (u *decodedUpdate) deleteSet() *deleteSet {
	ds := &deleteSet{clients: map[uint64][]deleteItem{}}
	for _, e := range u.ds {
		if len(e.dels) > 0 {
			ds.clients[e.client] = append(ds.clients[e.client], e.dels...)
		}
	}
	return ds
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// decodeUpdate decodes and validates a v1 update. Everything Yjs would
// reject while applying it (unknown content, unparsable JSON, references a
// struct cannot have) is rejected here, before any document is touched.
func decodeUpdate(update []byte) (*decodedUpdate, error) {
	d := NewDecoder(update)
	u := &decodedUpdate{clients: map[uint64][]*item{}}
	numClients, err := d.ReadVarUint()
	if err != nil {
		return nil, fmt.Errorf("reading client count: %w", err)
	}
	if numClients > uint64(d.Len()) {
		return nil, malformed("%d clients in %d bytes", numClients, d.Len())
	}
	for range numClients {
		numStructs, err := d.ReadVarUint()
		if err != nil {
			return nil, err
		}
		if numStructs > uint64(d.Len()) {
			return nil, malformed("%d structs in %d bytes", numStructs, d.Len())
		}
		client, err := d.ReadVarUint()
		if err != nil {
			return nil, err
		}
		clock, err := d.ReadVarUint()
		if err != nil {
			return nil, err
		}
		refs := make([]*item, 0, numStructs)
		for range numStructs {
			st, err := readStruct(d, ID{client, clock})
			if err != nil {
				return nil, fmt.Errorf("struct %d of client %d: %w", clock, client, err)
			}
			if st.length <= 0 {
				return nil, malformed("empty struct at %d of client %d", clock, client)
			}
			clock += uint64(st.length)
			if clock > maxSafeInteger {
				return nil, fmt.Errorf("%w: clock of client %d", ErrIntegerOverflow, client)
			}
			refs = append(refs, st)
		}
		if _, dup := u.clients[client]; !dup {
			u.clientOrder = append(u.clientOrder, client)
		}
		u.clients[client] = refs
	}
	numDs, err := d.ReadVarUint()
	if err != nil {
		return nil, fmt.Errorf("reading delete set: %w", err)
	}
	if numDs > uint64(d.Len()) {
		return nil, malformed("%d delete set clients in %d bytes", numDs, d.Len())
	}
	for range numDs {
		client, err := d.ReadVarUint()
		if err != nil {
			return nil, err
		}
		n, err := d.ReadVarUint()
		if err != nil {
			return nil, err
		}
		if n > uint64(d.Len())/2 {
			return nil, malformed("%d deletions in %d bytes", n, d.Len())
		}
		e := dsEntry{client: client, dels: make([]deleteItem, 0, n)}
		for range n {
			clock, err := d.ReadVarUint()
			if err != nil {
				return nil, err
			}
			l, err := d.ReadVarUint()
			if err != nil {
				return nil, err
			}
			if clock+l > maxSafeInteger {
				return nil, fmt.Errorf("%w: deletion range of client %d", ErrIntegerOverflow, client)
			}
			e.dels = append(e.dels, deleteItem{clock, l})
		}
		u.ds = append(u.ds, e)
	}
	return u, nil
}

// validateAgainst rejects what Yjs would fail on when applying u to a
// store in state state: a struct referring to a clock of its own client
// that will not exist when it is integrated, and an empty deletion range
// beyond what the client will have. (Yjs throws there, half way through
// the update; Quire rejects the update whole.)
func (u *decodedUpdate) validateAgainst(state func(client uint64) uint64) error {
	ends := map[uint64]uint64{}
	for client, refs := range u.clients {
		// s is the client's state when each struct is reached; after a gap
		// the client's remaining structs wait as pending, unchecked.
		s := state(client)
		for _, it := range refs {
			if it.id.Clock > s || (it.isItem() && it.dependsOnOthers(state)) {
				// From here on Yjs may keep the structs pending rather
				// than fail; they are checked when integrated.
				break
			}
			if it.isItem() {
				if it.hasOrigin() && it.origin.Client == client && it.origin.Clock >= s {
					return malformed("struct %d of client %d: origin %d not before it", it.id.Clock, client, it.origin.Clock)
				}
				if it.hasRight() && it.rightOrigin.Client == client && it.rightOrigin.Clock >= s {
					return malformed("struct %d of client %d: right origin %d not before it", it.id.Clock, client, it.rightOrigin.Clock)
				}
				if p := it.pref; p != nil && !p.isKey && p.id.Client == client && p.id.Clock >= s {
					return malformed("struct %d of client %d: parent %d not before it", it.id.Clock, client, p.id.Clock)
				}
			}
			if !it.isSkip() {
				s = max(s, it.id.Clock+uint64(it.length))
			}
		}
		// The client's state after the update, at most: its structs that
		// follow on from the current state without a gap.
		end := state(client)
		for _, it := range refs {
			if it.id.Clock > end {
				break
			}
			if !it.isSkip() {
				end = max(end, it.id.Clock+uint64(it.length))
			}
		}
		ends[client] = end
	}
	for _, e := range u.ds {
		end, ok := ends[e.client]
		if !ok {
			end = state(e.client)
		}
		for _, del := range e.dels {
			if del.len == 0 && del.clock >= end {
				return malformed("empty deletion range at %d of client %d", del.clock, e.client)
			}
		}
	}
	return nil
}

// dependsOnOthers reports whether the item refers to a clock of another
// client that the store does not have yet.
func (it *item) dependsOnOthers(state func(client uint64) uint64) bool {
	c := it.id.Client
	return (it.hasOrigin() && it.origin.Client != c && it.origin.Clock >= state(it.origin.Client)) ||
		(it.hasRight() && it.rightOrigin.Client != c && it.rightOrigin.Clock >= state(it.rightOrigin.Client)) ||
		(it.pref != nil && !it.pref.isKey && it.pref.id.Client != c && it.pref.id.Clock >= state(it.pref.id.Client))
}

// readStruct reads one struct with the given id.
func readStruct(d *Decoder, id ID) (*item, error) {
	info, err := d.ReadUint8()
	if err != nil {
		return nil, err
	}
	switch info & infoContentRef {
	case refGC, refSkip:
		n, err := d.ReadVarUint()
		if err != nil {
			return nil, err
		}
		if n > maxSafeInteger {
			return nil, ErrIntegerOverflow
		}
		st := &item{id: id, length: int(n), info: flagGC}
		if info&infoContentRef == refSkip {
			st.info = flagSkip
		}
		return st, nil
	}
	it := &item{id: id}
	if info&infoOrigin != 0 {
		if it.origin, err = readID(d); err != nil {
			return nil, err
		}
		it.info |= flagOrigin
	}
	if info&infoRightOrigin != 0 {
		if it.rightOrigin, err = readID(d); err != nil {
			return nil, err
		}
		it.info |= flagRightOrigin
	}
	if info&(infoOrigin|infoRightOrigin) == 0 {
		isKey, err := d.ReadVarUint()
		if err != nil {
			return nil, err
		}
		p := &parentRef{isKey: isKey == 1}
		if p.isKey {
			if p.key, err = d.ReadVarString(); err != nil {
				return nil, err
			}
		} else {
			if p.id, err = readID(d); err != nil {
				return nil, err
			}
		}
		it.pref = p
		if info&infoParentSub != 0 {
			if it.parentSub, err = d.ReadVarString(); err != nil {
				return nil, err
			}
			it.info |= flagParentSub
		}
	}
	if it.content, err = readContent(d, info&infoContentRef); err != nil {
		return nil, err
	}
	it.length = it.content.length()
	if it.content.countable() {
		it.info |= flagCountable
	}
	return it, nil
}

func readID(d *Decoder) (ID, error) {
	c, err := d.ReadVarUint()
	if err != nil {
		return ID{}, err
	}
	k, err := d.ReadVarUint()
	return ID{c, k}, err
}

func readJSONString(d *Decoder) (string, error) {
	s, err := d.ReadVarString()
	if err != nil {
		return "", err
	}
	if !json.Valid([]byte(s)) {
		return "", malformed("invalid JSON %q", s)
	}
	return s, nil
}

func readContent(d *Decoder, ref byte) (content, error) {
	switch ref {
	case refDeleted:
		n, err := d.ReadVarUint()
		if err != nil {
			return nil, err
		}
		if n > maxSafeInteger {
			return nil, ErrIntegerOverflow
		}
		return &contentDeleted{n: int(n)}, nil
	case refJSON:
		n, err := d.ReadVarUint()
		if err != nil {
			return nil, err
		}
		if n > uint64(d.Len()) {
			return nil, malformed("%d JSON values in %d bytes", n, d.Len())
		}
		c := &contentJSON{vals: make([]string, n)}
		for i := range c.vals {
			s, err := d.ReadVarString()
			if err != nil {
				return nil, err
			}
			if s != "undefined" && !json.Valid([]byte(s)) {
				return nil, malformed("invalid JSON %q", s)
			}
			c.vals[i] = s
		}
		return c, nil
	case refBinary:
		b, err := d.ReadVarBytes()
		if err != nil {
			return nil, err
		}
		return &contentBinary{b: append([]byte{}, b...)}, nil
	case refString:
		s, err := d.ReadVarString()
		if err != nil {
			return nil, err
		}
		return newContentString(s), nil
	case refEmbed:
		s, err := readJSONString(d)
		if err != nil {
			return nil, err
		}
		return &contentEmbed{raw: s}, nil
	case refFormat:
		k, err := d.ReadVarString()
		if err != nil {
			return nil, err
		}
		s, err := readJSONString(d)
		if err != nil {
			return nil, err
		}
		return newContentFormat(k, s), nil
	case refType:
		k, err := d.ReadVarUint()
		if err != nil {
			return nil, err
		}
		if k > uint64(kindXmlText) {
			return nil, malformed("unknown type ref %d", k)
		}
		t := &branch{kind: typeKind(k)}
		if t.kind == kindXmlElement || t.kind == kindXmlHook {
			if t.name, err = d.ReadVarString(); err != nil {
				return nil, err
			}
		}
		return &contentType{t: t}, nil
	case refAny:
		n, err := d.ReadVarUint()
		if err != nil {
			return nil, err
		}
		if n > uint64(d.Len()) {
			return nil, malformed("%d values in %d bytes", n, d.Len())
		}
		c := &contentAny{vals: make([]any, n)}
		for i := range c.vals {
			start := d.pos
			v, err := d.ReadAny()
			if err != nil {
				return nil, err
			}
			c.vals[i] = v
			if needsRaw(v) {
				if c.raw == nil {
					c.raw = make([][]byte, n)
				}
				c.raw[i] = jsReencodeAny(append([]byte(nil), d.buf[start:d.pos]...))
			}
		}
		return c, nil
	case refDoc:
		guid, err := d.ReadVarString()
		if err != nil {
			return nil, err
		}
		optsStart := d.pos
		opts, err := d.ReadAny()
		if err != nil {
			return nil, err
		}
		switch opts.(type) {
		case nil, Undefined:
			return nil, malformed("subdocument without options")
		}
		// Yjs spreads the options over {guid}, so a guid option wins.
		if m, ok := opts.(map[string]any); ok {
			if g, ok := m["guid"]; ok {
				gs, ok := g.(string)
				if !ok {
					return nil, malformed("subdocument guid is not a string")
				}
				guid = gs
			}
		}
		c := newContentDocFromOpts(guid, opts)
		if _, ok := c.opts["meta"]; ok {
			c.metaRaw = objectFieldJS(d.buf[optsStart:d.pos], "meta")
		}
		return c, nil
	}
	return nil, malformed("unknown content type %d", ref)
}

// needsRaw reports whether re-encoding v could reorder object keys.
func needsRaw(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		if len(x) > 1 {
			return true
		}
		for _, e := range x {
			if needsRaw(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if needsRaw(e) {
				return true
			}
		}
	}
	return false
}

// readStateVector decodes an encoded state vector.
func readStateVector(d *Decoder) (map[uint64]uint64, error) {
	n, err := d.ReadVarUint()
	if err != nil {
		return nil, err
	}
	if n > uint64(d.Len())/2 {
		return nil, malformed("%d state vector entries in %d bytes", n, d.Len())
	}
	sv := make(map[uint64]uint64, n)
	for range n {
		c, err := d.ReadVarUint()
		if err != nil {
			return nil, err
		}
		k, err := d.ReadVarUint()
		if err != nil {
			return nil, err
		}
		sv[c] = k
	}
	return sv, nil
}

// DecodeStateVector decodes a state vector (client id → next clock).
func DecodeStateVector(b []byte) (map[uint64]uint64, error) {
	return readStateVector(NewDecoder(b))
}
