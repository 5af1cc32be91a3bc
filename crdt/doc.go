// Package crdt is a Yjs 13.6-compatible CRDT: the lib0 encoding, the v1
// update format, the struct store, YATA integration and the shared types,
// byte for byte as Yjs 13.6.33 (real Yjs is the test oracle). It is pure:
// no I/O, no goroutines, no clocks, no logging.
//
// A Doc is owned by one goroutine: neither it nor the types it hands out
// may be used concurrently.
//
// # Documents
//
//	d := crdt.NewDoc()                      // WithClientID(id), WithGC(false)
//	err := d.ApplyUpdate(update)            // atomic: on error nothing changed
//	full, _ := d.EncodeStateAsUpdate(nil)   // or against an encoded state vector
//	sv := d.EncodeStateVector()
//	u := d.Transact(func() { ... edits ... }) // the v1 update of the edits
//
// Updates whose dependencies have not arrived are kept pending (HasPending)
// and applied when they do; EncodeStateAsUpdate includes them, as Yjs does.
// Deleted content is garbage collected as Yjs does with gc: true (default).
//
// # Shared types
//
// Roots: GetText, GetMap, GetArray, GetXmlFragment. Nested types are
// created in place: Map.SetMap/SetArray/SetText/SetXmlFragment/
// SetXmlElement/SetXmlText, Array.InsertMap/InsertArray/InsertText,
// XmlFragment/XmlElement.InsertElement/InsertText. Text positions and
// lengths count UTF-16 code units, as in JavaScript. ToJSON matches Yjs
// toJSON (Text: string; Map: object; Array: array; Xml types: their XML
// string).
//
// Values: lib0 Any values (nil, Undefined, bool, string, numbers, BigInt,
// []byte, []any, map[string]any); numbers are written as lib0 writes a
// JavaScript number. Go maps have no key order: objects built in Go are
// written with keys sorted (array-index keys first, as JavaScript orders
// them); objects received in updates keep the key order
// Yjs gives them.
//
// # Supported
//
// Update format v1 (encoding and decoding) with every struct and content
// kind (GC, Skip, Deleted, JSON, Binary, String, Embed, Format, Type, Any,
// Doc). Subdocuments are kept intact, never loaded. Not supported: update
// format v2, snapshots, undo, relative positions, observers.
package crdt

import (
	"fmt"
	"math/rand/v2"
	"sort"
)

// Doc is a Yjs document: a struct store and the root shared types.
//
// A Doc is owned by one goroutine: none of its methods, nor those of the
// shared types it hands out, may be called concurrently.
type Doc struct {
	clientID      uint64
	fixedClientID bool
	gc            bool
	store         structStore
	share         map[string]*branch
	shareOrder    []string
	tr            *transaction
	spare         *transaction // reused by the next transaction
	lastEncodeLen int          // size of the last full EncodeStateAsUpdate
}

// Option configures a Doc.
type Option func(*Doc)

// WithClientID sets the client id used for local edits (Yjs ids are
// 32-bit; above 2^53-1 no Yjs peer could decode them). By default a Doc
// picks a random 32-bit id, as Yjs does, and picks a new one if a remote
// update uses its id; a fixed id is kept.
func WithClientID(id uint64) Option {
	return func(d *Doc) { d.clientID, d.fixedClientID = id, true }
}

// WithGC turns garbage collection of deleted content on (the default, as
// Yjs' gc: true) or off.
func WithGC(on bool) Option { return func(d *Doc) { d.gc = on } }

// NewDoc returns an empty document.
func NewDoc(opts ...Option) *Doc {
	d := &Doc{gc: true, share: map[string]*branch{}}
	d.clientID = d.newClientID()
	for _, o := range opts {
		o(d)
	}
	d.store.clients = map[uint64]*structList{}
	return d
}

// newClientID draws a random id in the uint32 range, like Yjs. math/rand/v2
// is seeded randomly; ids need not be secret, only unlikely to collide.
func (d *Doc) newClientID() uint64 { return uint64(rand.Uint32()) }

// ClientID returns the id local edits are made with.
func (d *Doc) ClientID() uint64 { return d.clientID }

// nextID is the id of the next struct this Doc's own client creates.
func (d *Doc) nextID() ID { return ID{d.clientID, d.store.state(d.clientID)} }

// root returns the root type named name, creating it untyped.
func (d *Doc) root(name string) *branch {
	t := d.share[name]
	if t == nil {
		t = &branch{doc: d, name: name, kind: kindUnknown}
		d.share[name] = t
		d.shareOrder = append(d.shareOrder, name)
	}
	return t
}

func (d *Doc) typedRoot(name string, k typeKind) *branch {
	t := d.root(name)
	if t.kind == kindUnknown {
		// Yjs replaces the untyped root by a new typed object, which has
		// not seen formats yet.
		t.kind = k
		t.hasFormatting = false
	}
	return t
}

// GetText returns the root Text named name. The first Get of a name fixes
// its kind for ToJSON; later Gets of another kind return views of the same
// content.
func (d *Doc) GetText(name string) *Text { return &Text{d.typedRoot(name, kindText)} }

// GetMap returns the root Map named name.
func (d *Doc) GetMap(name string) *Map { return &Map{d.typedRoot(name, kindMap)} }

// GetArray returns the root Array named name.
func (d *Doc) GetArray(name string) *Array { return &Array{d.typedRoot(name, kindArray)} }

// GetXmlFragment returns the root XmlFragment named name.
func (d *Doc) GetXmlFragment(name string) *XmlFragment {
	return &XmlFragment{d.typedRoot(name, kindXmlFragment)}
}

// ToJSON returns every typed root as Yjs' doc.toJSON does (roots never
// fetched with a Get are omitted, like Yjs' untyped roots).
func (d *Doc) ToJSON() map[string]any {
	out := make(map[string]any, len(d.share))
	for _, name := range d.shareOrder {
		t := d.share[name]
		if t.kind != kindUnknown {
			out[name] = t.toJSON()
		}
	}
	return out
}

// Transact runs fn, in which any number of local edits may be made, as one
// transaction and returns its v1 update (nil if nothing changed). Edits
// made outside Transact run in a transaction of their own. Nested calls
// join the outer transaction and return nil.
func (d *Doc) Transact(fn func()) []byte {
	return d.transactEncode(true, true, func(*transaction) { fn() })
}

// StateVector returns the next expected clock of every client.
func (d *Doc) StateVector() map[uint64]uint64 { return d.store.stateVector() }

// EncodeStateVector encodes the document's state vector.
func (d *Doc) EncodeStateVector() []byte { return EncodeStateVector(d.store.stateVector()) }

// HasPending reports whether structs or deletions wait for updates that
// have not arrived.
func (d *Doc) HasPending() bool { return d.store.pending != nil || d.store.pendingDs != nil }

// EncodeStateAsUpdate encodes everything the document has that a peer
// with the encoded state vector lacks (nil or empty: everything), as Yjs
// encodeStateAsUpdate, pending structs and deletions included.
func (d *Doc) EncodeStateAsUpdate(encodedStateVector []byte) ([]byte, error) {
	sv := map[uint64]uint64{}
	if len(encodedStateVector) > 0 {
		var err error
		if sv, err = DecodeStateVector(encodedStateVector); err != nil {
			return nil, fmt.Errorf("crdt: encode state as update: %w", err)
		}
	}
	// Size the buffer from the last full encoding: documents change little
	// between encodings, and growing a large buffer copies it repeatedly.
	e := NewEncoderSize(max(256, d.lastEncodeLen+d.lastEncodeLen/8))
	writeClientsStructs(e, &d.store, sv)
	deleteSetFromStore(&d.store).write(e)
	if len(sv) == 0 {
		d.lastEncodeLen = e.Len()
	}
	if d.HasPending() {
		return d.withPending(e.Bytes(), encodedStateVector)
	}
	return e.Bytes(), nil
}

// ApplyUpdate applies a v1 update. It is atomic: a malformed update returns
// an error and leaves the document as it was. Structs and deletions whose
// dependencies are missing are kept pending and applied when they arrive.
func (d *Doc) ApplyUpdate(update []byte) (err error) {
	if d.tr != nil {
		return fmt.Errorf("crdt: apply update: called inside a transaction")
	}
	u, err := decodeUpdate(update)
	if err == nil {
		err = u.validateAgainst(d.store.state)
	}
	if err != nil {
		return fmt.Errorf("crdt: apply update: %w", err)
	}
	defer func() {
		// Decoding validated the update; a panic here is a bug in this
		// package, reported as an error rather than crashing the caller.
		if r := recover(); r != nil {
			d.tr = nil
			err = fmt.Errorf("crdt: apply update: internal error: %v", r)
		}
	}()
	d.transact(false, func(tr *transaction) {
		for _, refs := range u.clients {
			for _, it := range refs {
				if it.pref != nil && it.pref.isKey {
					d.root(it.pref.key) // Yjs creates roots while decoding
				}
			}
		}
		d.readUpdate(tr, u.clients, u.ds)
	})
	return nil
}

// readUpdate integrates decoded structs and deletions, keeping what cannot
// be applied yet pending (Yjs readUpdateV2).
func (d *Doc) readUpdate(tr *transaction, clients map[uint64][]*item, ds []dsEntry) {
	s := &d.store
	rest := d.integrateStructs(tr, clients)
	retry := false
	if p := s.pending; p != nil {
		for client, clock := range p.missing {
			if clock < s.state(client) {
				retry = true
				break
			}
		}
		if rest != nil {
			for client, clock := range rest.missing {
				if m, ok := p.missing[client]; !ok || m > clock {
					p.missing[client] = clock
				}
			}
			merged, err := MergeUpdates([][]byte{p.update, rest.update})
			if err != nil {
				panic(fmt.Errorf("merging pending structs: %w", err))
			}
			p.update = merged
		}
	} else if rest != nil {
		s.pending = rest
	}
	dsRest := d.applyDeleteSet(tr, ds)
	if s.pendingDs != nil {
		dsRest2 := d.applyDeleteSet(tr, dsEntries(s.pendingDs))
		switch {
		case dsRest != nil && dsRest2 != nil:
			s.pendingDs = mergeDeleteSets(dsRest, dsRest2)
		case dsRest != nil:
			s.pendingDs = dsRest
		default:
			s.pendingDs = dsRest2
		}
	} else {
		s.pendingDs = dsRest
	}
	if retry {
		p := s.pending
		s.pending = nil
		u, err := decodeUpdate(p.update)
		if err != nil {
			panic(fmt.Errorf("decoding pending structs: %w", err))
		}
		d.readUpdate(tr, u.clients, u.ds)
	}
}

// dsEntries lists a delete set in the order Yjs writes it.
func dsEntries(ds *deleteSet) []dsEntry {
	out := make([]dsEntry, 0, len(ds.clients))
	for _, c := range sortedClientsDesc(ds.clients) {
		out = append(out, dsEntry{client: c, dels: ds.clients[c]})
	}
	return out
}

type refList struct {
	i    int
	refs []*item
}

// integrateStructs integrates as many structs as possible, following
// dependencies across clients (Yjs integrateStructs), and returns those
// that must wait.
func (d *Doc) integrateStructs(tr *transaction, clients map[uint64][]*item) *pendingStructs {
	s := &d.store
	refsOf := make(map[uint64]*refList, len(clients))
	ids := make([]uint64, 0, len(clients))
	for c, refs := range clients {
		refsOf[c] = &refList{refs: refs}
		ids = append(ids, c)
	}
	if len(ids) == 0 {
		return nil
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	nextTarget := func() *refList {
		for len(ids) > 0 {
			t := refsOf[ids[len(ids)-1]]
			if t.i < len(t.refs) {
				return t
			}
			ids = ids[:len(ids)-1]
		}
		return nil
	}
	cur := nextTarget()
	if cur == nil {
		return nil
	}
	restClients := map[uint64][]*item{}
	missingSV := map[uint64]uint64{}
	updateMissing := func(client, clock uint64) {
		if m, ok := missingSV[client]; !ok || m > clock {
			missingSV[client] = clock
		}
	}
	var stack []*item
	state := map[uint64]uint64{}
	addStackToRest := func() {
		for _, it := range stack {
			client := it.id.Client
			if l := refsOf[client]; l != nil {
				l.i--
				restClients[client] = l.refs[l.i:]
				delete(refsOf, client)
				l.i = 0
				l.refs = nil
			} else {
				restClients[client] = []*item{it}
			}
			kept := ids[:0]
			for _, c := range ids {
				if c != client {
					kept = append(kept, c)
				}
			}
			ids = kept
		}
		stack = stack[:0]
	}
	head := cur.refs[cur.i]
	cur.i++
	for {
		if !head.isSkip() {
			client := head.id.Client
			local, ok := state[client]
			if !ok {
				local = s.state(client)
				state[client] = local
			}
			if local < head.id.Clock {
				// Structs of the same client are missing.
				stack = append(stack, head)
				updateMissing(client, head.id.Clock-1)
				addStackToRest()
			} else if missing, isMissing := head.getMissing(tr, s); isMissing {
				stack = append(stack, head)
				l := refsOf[missing]
				if l == nil || l.i == len(l.refs) {
					// Depends on an update that has not arrived.
					updateMissing(missing, s.state(missing))
					addStackToRest()
				} else {
					head = l.refs[l.i]
					l.i++
					continue
				}
			} else if offset := local - head.id.Clock; offset == 0 || offset < uint64(head.length) {
				head.integrate(tr, int(offset))
				state[client] = head.id.Clock + uint64(head.length)
			}
		}
		if len(stack) > 0 {
			head = stack[len(stack)-1]
			stack = stack[:len(stack)-1]
		} else if cur != nil && cur.i < len(cur.refs) {
			head = cur.refs[cur.i]
			cur.i++
		} else {
			cur = nextTarget()
			if cur == nil {
				break
			}
			head = cur.refs[cur.i]
			cur.i++
		}
	}
	if len(restClients) == 0 {
		return nil
	}
	// Yjs keeps the rest as an update: every client's remaining structs
	// (contiguous, Skips included) and no deletions.
	e := NewEncoderSize(256)
	e.WriteVarUint(uint64(len(restClients)))
	for _, client := range sortedClientsDesc(restClients) {
		refs := restClients[client]
		e.WriteVarUint(uint64(len(refs)))
		e.WriteVarUint(client)
		e.WriteVarUint(refs[0].id.Clock)
		for _, st := range refs {
			st.writeStruct(e, 0, true)
		}
	}
	e.WriteVarUint(0)
	return &pendingStructs{update: e.Bytes(), missing: missingSV}
}

// applyDeleteSet deletes what the entries name and returns the deletions
// of structs not yet received (Yjs readAndApplyDeleteSet).
func (d *Doc) applyDeleteSet(tr *transaction, entries []dsEntry) *deleteSet {
	s := &d.store
	var unapplied *deleteSet
	addUnapplied := func(client, clock, n uint64) {
		if unapplied == nil {
			unapplied = &deleteSet{}
		}
		unapplied.add(client, clock, n)
	}
	for _, e := range entries {
		client := e.client
		state := s.state(client)
		for _, del := range e.dels {
			clock, end := del.clock, del.clock+del.len
			if clock >= state {
				if end > clock { // empty ranges were checked when decoding
					addUnapplied(client, clock, end-clock)
				}
				continue
			}
			if state < end {
				addUnapplied(client, state, end-state)
			}
			l := s.clients[client]
			index := findIndex(l.s, clock)
			st := l.s[index]
			if !st.deleted() && st.id.Clock < clock {
				l.insert(index+1, splitItem(tr, st, int(clock-st.id.Clock)))
				index++
			}
			for index < len(l.s) {
				st = l.s[index]
				index++
				if st.id.Clock >= end {
					break
				}
				if !st.deleted() {
					if end < st.id.Clock+uint64(st.length) {
						l.insert(index, splitItem(tr, st, int(end-st.id.Clock)))
					}
					st.delete(tr)
				}
			}
		}
	}
	if unapplied != nil {
		unapplied = v2RoundTrip(unapplied)
	}
	return unapplied
}
