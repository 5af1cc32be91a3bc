package crdt

// Raw-update operations that work on encoded v1 updates without building a
// Doc (Yjs src/utils/updates.js): merging, diffing against a state vector,
// and reading the state vector an update would produce. They must produce
// the same bytes as Yjs 13.6, so the algorithms follow Yjs' step by step,
// including its quirks (items are never merged, only GC and skip runs;
// splitting a string inside a surrogate pair turns both halves into U+FFFD).
//
// Updates are decoded eagerly into flat struct lists, so malformed input is
// reported before anything is written.

import (
	"encoding/json"
	"fmt"
	"slices"
	"unicode/utf16"
)

type lazyKind uint8

const (
	lazyGC lazyKind = iota
	lazyItem
	lazySkip
)

type lazyID struct{ client, clock uint64 }

// lazyStruct is one struct of an update as the raw-update API needs it:
// ids, origins and parent as read, content kept in encoded form except
// where it must be split (strings as UTF-16 units, arrays per element).
type lazyStruct struct {
	kind   lazyKind
	id     lazyID
	length uint64

	// items only
	origin, rightOrigin       lazyID
	hasOrigin, hasRightOrigin bool
	parentKind                uint8 // 0 none (copied from origins), 1 root name, 2 item id
	parentName                string
	parentID                  lazyID
	parentSub                 string
	hasParentSub              bool
	contentRef                byte
	units                     []uint16 // refString
	elems                     [][]byte // refAny, refJSON: each element encoded as read
	raw                       []byte   // other refs: the content encoded as read
}

type lazyDeleteRange struct{ clock, len uint64 }

// lazyDeleteSet keeps the clients in the order the update lists them.
type lazyDeleteSet struct {
	clients []uint64
	ranges  map[uint64][]lazyDeleteRange
}

type lazyUpdate struct {
	structs []*lazyStruct
	ds      lazyDeleteSet
}

// malformedUpdate is every decoding failure of the raw-update API: it wraps
// ErrMalformed.
func malformedUpdate(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// rawReader reads lib0 values and knows its offset, so content can be kept
// as the exact bytes it was read from.
type rawReader struct {
	buf []byte
	dec *Decoder
}

func newRawReader(b []byte) *rawReader { return &rawReader{buf: b, dec: NewDecoder(b)} }

func (r *rawReader) pos() int { return len(r.buf) - r.dec.Len() }

func (r *rawReader) varUint(what string) (uint64, error) {
	v, err := r.dec.ReadVarUint()
	if err != nil {
		return 0, malformedUpdate("reading %s: %v", what, err)
	}
	return v, nil
}

func (r *rawReader) varString(what string) (string, error) {
	s, err := r.dec.ReadVarString()
	if err != nil {
		return "", malformedUpdate("reading %s: %v", what, err)
	}
	return s, nil
}

func (r *rawReader) any(what string) ([]byte, error) {
	start := r.pos()
	if _, err := r.dec.ReadAny(); err != nil {
		return nil, malformedUpdate("reading %s: %v", what, err)
	}
	return r.buf[start:r.pos()], nil
}

func decodeLazyUpdate(update []byte) (*lazyUpdate, error) {
	r := newRawReader(update)
	u := &lazyUpdate{}
	clients, err := r.varUint("number of clients")
	if err != nil {
		return nil, err
	}
	for range clients {
		n, err := r.varUint("number of structs")
		if err != nil {
			return nil, err
		}
		client, err := r.varUint("client")
		if err != nil {
			return nil, err
		}
		clock, err := r.varUint("clock")
		if err != nil {
			return nil, err
		}
		for range n {
			s, err := readLazyStruct(r, lazyID{client, clock})
			if err != nil {
				return nil, err
			}
			u.structs = append(u.structs, s)
			clock += s.length
		}
	}
	ds, err := readLazyDeleteSet(r)
	if err != nil {
		return nil, err
	}
	u.ds = ds
	return u, nil
}

func readLazyStruct(r *rawReader, id lazyID) (*lazyStruct, error) {
	info, err := r.dec.ReadUint8()
	if err != nil {
		return nil, malformedUpdate("reading struct info: %v", err)
	}
	s := &lazyStruct{id: id}
	switch {
	case info == refSkip: // a whole info byte, not a content ref
		s.kind = lazySkip
		if s.length, err = r.varUint("skip length"); err != nil {
			return nil, err
		}
		return s, nil
	case info&infoContentRef == 0:
		s.kind = lazyGC
		if s.length, err = r.varUint("gc length"); err != nil {
			return nil, err
		}
		return s, nil
	}
	s.kind = lazyItem
	s.contentRef = info & infoContentRef
	if info&infoOrigin != 0 {
		s.hasOrigin = true
		if s.origin, err = readLazyID(r, "origin"); err != nil {
			return nil, err
		}
	}
	if info&infoRightOrigin != 0 {
		s.hasRightOrigin = true
		if s.rightOrigin, err = readLazyID(r, "right origin"); err != nil {
			return nil, err
		}
	}
	if info&(infoOrigin|infoRightOrigin) == 0 {
		isName, err := r.varUint("parent info")
		if err != nil {
			return nil, err
		}
		if isName == 1 {
			s.parentKind = 1
			if s.parentName, err = r.varString("parent name"); err != nil {
				return nil, err
			}
		} else {
			s.parentKind = 2
			if s.parentID, err = readLazyID(r, "parent"); err != nil {
				return nil, err
			}
		}
		if info&infoParentSub != 0 {
			s.hasParentSub = true
			if s.parentSub, err = r.varString("parent sub"); err != nil {
				return nil, err
			}
		}
	}
	if err := readLazyContent(r, s); err != nil {
		return nil, err
	}
	if s.length == 0 {
		return nil, malformedUpdate("item %d:%d has empty content", id.client, id.clock)
	}
	return s, nil
}

func readLazyID(r *rawReader, what string) (lazyID, error) {
	client, err := r.varUint(what + " client")
	if err != nil {
		return lazyID{}, err
	}
	clock, err := r.varUint(what + " clock")
	if err != nil {
		return lazyID{}, err
	}
	return lazyID{client, clock}, nil
}

func readLazyContent(r *rawReader, s *lazyStruct) error {
	start := r.pos()
	switch s.contentRef {
	case refDeleted:
		n, err := r.varUint("deleted length")
		if err != nil {
			return err
		}
		s.length = n
		return nil
	case refJSON, refAny:
		n, err := r.varUint("element count")
		if err != nil {
			return err
		}
		for range n {
			var el []byte
			if s.contentRef == refJSON {
				elStart := r.pos()
				str, err := r.varString("JSON element")
				if err != nil {
					return err
				}
				if str != "undefined" && !json.Valid([]byte(str)) {
					return malformedUpdate("JSON content of item %d:%d is not JSON", s.id.client, s.id.clock)
				}
				el = r.buf[elStart:r.pos()]
			} else if el, err = r.any("element"); err != nil {
				return err
			}
			s.elems = append(s.elems, el)
		}
		s.length = n
		return nil
	case refString:
		str, err := r.varString("string content")
		if err != nil {
			return err
		}
		s.units = utf16.Encode([]rune(str))
		s.length = uint64(len(s.units))
		return nil
	case refBinary:
		if _, err := r.dec.ReadVarBytes(); err != nil {
			return malformedUpdate("reading binary content: %v", err)
		}
	case refEmbed:
		str, err := r.varString("embed")
		if err != nil {
			return err
		}
		if !json.Valid([]byte(str)) {
			return malformedUpdate("embed of item %d:%d is not JSON", s.id.client, s.id.clock)
		}
	case refFormat:
		if _, err := r.varString("format key"); err != nil {
			return err
		}
		str, err := r.varString("format value")
		if err != nil {
			return err
		}
		if !json.Valid([]byte(str)) {
			return malformedUpdate("format value of item %d:%d is not JSON", s.id.client, s.id.clock)
		}
	case refType:
		ref, err := r.varUint("type ref")
		if err != nil {
			return err
		}
		switch ref {
		case 0, 1, 2, 4, 6: // Array, Map, Text, XmlFragment, XmlText
		case 3, 5: // XmlElement, XmlHook carry a name
			if _, err := r.varString("type name"); err != nil {
				return err
			}
		default:
			return malformedUpdate("unknown type ref %d", ref)
		}
	case refDoc:
		if _, err := r.varString("subdocument guid"); err != nil {
			return err
		}
		if _, err := r.any("subdocument options"); err != nil {
			return err
		}
	default:
		return malformedUpdate("unknown content ref %d", s.contentRef)
	}
	s.raw = r.buf[start:r.pos()]
	s.length = 1
	return nil
}

func readLazyDeleteSet(r *rawReader) (lazyDeleteSet, error) {
	ds := lazyDeleteSet{ranges: map[uint64][]lazyDeleteRange{}}
	n, err := r.varUint("number of delete set clients")
	if err != nil {
		return ds, err
	}
	for range n {
		client, err := r.varUint("delete set client")
		if err != nil {
			return ds, err
		}
		count, err := r.varUint("number of deletes")
		if err != nil {
			return ds, err
		}
		if count == 0 {
			continue
		}
		if _, seen := ds.ranges[client]; !seen {
			ds.clients = append(ds.clients, client)
		}
		for range count {
			clock, err := r.varUint("delete clock")
			if err != nil {
				return ds, err
			}
			l, err := r.varUint("delete length")
			if err != nil {
				return ds, err
			}
			ds.ranges[client] = append(ds.ranges[client], lazyDeleteRange{clock, l})
		}
	}
	return ds, nil
}

// mergeLazyDeleteSets unions delete sets: per client, ranges sorted by
// clock (stable) and overlapping or adjacent ranges joined.
func mergeLazyDeleteSets(dss []lazyDeleteSet) lazyDeleteSet {
	out := lazyDeleteSet{ranges: map[uint64][]lazyDeleteRange{}}
	for _, ds := range dss {
		for _, c := range ds.clients {
			if _, ok := out.ranges[c]; !ok {
				out.clients = append(out.clients, c)
			}
			out.ranges[c] = append(out.ranges[c], ds.ranges[c]...)
		}
	}
	for _, c := range out.clients {
		dels := out.ranges[c]
		slices.SortStableFunc(dels, func(a, b lazyDeleteRange) int { return cmpLazyClock(a.clock, b.clock) })
		j := 1
		for i := 1; i < len(dels); i++ {
			left, right := &dels[j-1], dels[i]
			if left.clock+left.len >= right.clock {
				left.len = max(left.len, right.clock+right.len-left.clock)
			} else {
				dels[j] = right
				j++
			}
		}
		out.ranges[c] = dels[:min(j, len(dels))]
	}
	return out
}

func cmpLazyClock(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// writeLazyDeleteSet writes clients in descending id order, as Yjs does.
func writeLazyDeleteSet(e *Encoder, ds lazyDeleteSet) {
	clients := slices.Clone(ds.clients)
	slices.SortFunc(clients, func(a, b uint64) int { return cmpLazyClock(b, a) })
	e.WriteVarUint(uint64(len(clients)))
	for _, c := range clients {
		e.WriteVarUint(c)
		e.WriteVarUint(uint64(len(ds.ranges[c])))
		for _, d := range ds.ranges[c] {
			e.WriteVarUint(d.clock)
			e.WriteVarUint(d.len)
		}
	}
}

// slice returns the part of s from diff on (Yjs sliceStruct): for items the
// new origin is the unit just before the cut.
func (s *lazyStruct) slice(diff uint64) *lazyStruct {
	r := *s
	r.id.clock += diff
	r.length -= diff
	if s.kind != lazyItem {
		return &r
	}
	r.hasOrigin = true
	r.origin = lazyID{s.id.client, s.id.clock + diff - 1}
	switch s.contentRef {
	case refString:
		r.units = slices.Clone(s.units[diff:])
		if hi := s.units[diff-1]; hi >= 0xd800 && hi <= 0xdbff {
			r.units[0] = 0xfffd
		}
	case refAny, refJSON:
		r.elems = s.elems[diff:]
	}
	return &r
}

// write encodes s starting offset units in (Yjs Item/GC/Skip.write).
func (s *lazyStruct) write(e *Encoder, offset uint64) {
	switch s.kind {
	case lazyGC:
		e.WriteUint8(0)
		e.WriteVarUint(s.length - offset)
		return
	case lazySkip:
		e.WriteUint8(refSkip)
		e.WriteVarUint(s.length - offset)
		return
	}
	hasOrigin, origin := s.hasOrigin, s.origin
	if offset > 0 {
		hasOrigin, origin = true, lazyID{s.id.client, s.id.clock + offset - 1}
	}
	// parentSub is only known (and only written) when the parent is.
	hasParentSub := s.hasParentSub && s.parentKind != 0
	info := s.contentRef & infoContentRef
	if hasOrigin {
		info |= infoOrigin
	}
	if s.hasRightOrigin {
		info |= infoRightOrigin
	}
	if hasParentSub {
		info |= infoParentSub
	}
	e.WriteUint8(info)
	if hasOrigin {
		e.WriteVarUint(origin.client)
		e.WriteVarUint(origin.clock)
	}
	if s.hasRightOrigin {
		e.WriteVarUint(s.rightOrigin.client)
		e.WriteVarUint(s.rightOrigin.clock)
	}
	if !hasOrigin && !s.hasRightOrigin {
		switch s.parentKind {
		case 1:
			e.WriteVarUint(1)
			e.WriteVarString(s.parentName)
		case 2:
			e.WriteVarUint(0)
			e.WriteVarUint(s.parentID.client)
			e.WriteVarUint(s.parentID.clock)
		}
		if hasParentSub {
			e.WriteVarString(s.parentSub)
		}
	}
	switch s.contentRef {
	case refDeleted:
		e.WriteVarUint(s.length - offset)
	case refString:
		// lone surrogates become U+FFFD, as lib0's UTF-8 encoding does
		e.WriteVarString(string(utf16.Decode(s.units[offset:])))
	case refAny, refJSON:
		e.WriteVarUint(uint64(len(s.elems)) - offset)
		for _, el := range s.elems[offset:] {
			e.WriteBytes(el)
		}
	default:
		e.WriteBytes(s.raw)
	}
}

// lazyWriter groups written structs into per-client sections, in the
// order they are written (Yjs LazyStructWriter).
type lazyWriter struct {
	sections []lazySection
	cur      *lazySection
}

type lazySection struct {
	client  uint64
	written uint64
	enc     Encoder
}

func (w *lazyWriter) write(s *lazyStruct, offset uint64) {
	if w.cur != nil && w.cur.client != s.id.client {
		w.flush()
	}
	if w.cur == nil {
		w.cur = &lazySection{client: s.id.client}
		w.cur.enc.WriteVarUint(s.id.clock + offset)
	}
	s.write(&w.cur.enc, offset)
	w.cur.written++
}

func (w *lazyWriter) flush() {
	if w.cur != nil && w.cur.written > 0 {
		w.sections = append(w.sections, *w.cur)
	}
	w.cur = nil
}

// finish writes the struct sections into e.
func (w *lazyWriter) finish(e *Encoder) {
	w.flush()
	e.WriteVarUint(uint64(len(w.sections)))
	for i := range w.sections {
		sec := &w.sections[i]
		e.WriteVarUint(sec.written)
		e.WriteVarUint(sec.client)
		e.WriteBytes(sec.enc.Bytes())
	}
}

// MergeUpdates merges v1 updates into one, byte for byte as Yjs'
// mergeUpdates does. A single update is returned as it is (a copy).
func MergeUpdates(updates [][]byte) ([]byte, error) {
	decoded := make([]*lazyUpdate, len(updates))
	for i, u := range updates {
		d, err := decodeLazyUpdate(u)
		if err != nil {
			return nil, fmt.Errorf("update %d: %w", i, err)
		}
		decoded[i] = d
	}
	if len(updates) == 1 {
		return slices.Clone(updates[0]), nil
	}

	// One cursor per update over its structs, skips left out.
	type cursor struct {
		structs []*lazyStruct
		i       int
	}
	curr := func(c *cursor) *lazyStruct {
		if c.i < len(c.structs) {
			return c.structs[c.i]
		}
		return nil
	}
	cursors := make([]*cursor, 0, len(decoded))
	for _, d := range decoded {
		c := &cursor{}
		for _, s := range d.structs {
			if s.kind != lazySkip {
				c.structs = append(c.structs, s)
			}
		}
		cursors = append(cursors, c)
	}

	var w lazyWriter
	var currWrite *lazyStruct // always written with offset 0
	for {
		cursors = slices.DeleteFunc(cursors, func(c *cursor) bool { return curr(c) == nil })
		// Highest client first, then lowest clock. For a GC and an item at
		// the same id Yjs' comparator says "first argument first" both
		// ways, so only V8's exact sort reproduces its order.
		jsSort(cursors, func(a, b *cursor) int {
			x, y := curr(a), curr(b)
			if x.id.client != y.id.client {
				return cmpLazyClock(y.id.client, x.id.client)
			}
			if x.id.clock != y.id.clock {
				return cmpLazyClock(x.id.clock, y.id.clock)
			}
			if x.kind == y.kind {
				return 0
			}
			if x.kind == lazySkip {
				return 1
			}
			return -1
		})
		if len(cursors) == 0 {
			break
		}
		cd := cursors[0]
		firstClient := curr(cd).id.client
		if currWrite != nil {
			c := curr(cd)
			iterated := false
			// skip what was written already
			for c != nil && c.id.clock+c.length <= currWrite.id.clock+currWrite.length && c.id.client >= currWrite.id.client {
				cd.i++
				c = curr(cd)
				iterated = true
			}
			if c == nil || c.id.client != firstClient || (iterated && c.id.clock > currWrite.id.clock+currWrite.length) {
				continue
			}
			if firstClient != currWrite.id.client {
				w.write(currWrite, 0)
				currWrite = cloneLazyStruct(c)
				cd.i++
			} else if currWrite.id.clock+currWrite.length < c.id.clock {
				// a gap: fill it with a skip
				if currWrite.kind == lazySkip {
					currWrite.length = c.id.clock + c.length - currWrite.id.clock
				} else {
					w.write(currWrite, 0)
					end := currWrite.id.clock + currWrite.length
					currWrite = &lazyStruct{kind: lazySkip, id: lazyID{firstClient, end}, length: c.id.clock - end}
				}
			} else {
				if diff := currWrite.id.clock + currWrite.length - c.id.clock; diff > 0 {
					if currWrite.kind == lazySkip {
						// prefer the other struct: it carries content
						currWrite.length -= diff
					} else {
						c = c.slice(diff)
					}
				}
				if !currWrite.mergeWith(c) {
					w.write(currWrite, 0)
					currWrite = cloneLazyStruct(c)
					cd.i++
				}
			}
		} else {
			currWrite = cloneLazyStruct(curr(cd))
			cd.i++
		}
		for next := curr(cd); next != nil && next.id.client == firstClient &&
			next.id.clock == currWrite.id.clock+currWrite.length && next.kind != lazySkip; next = curr(cd) {
			w.write(currWrite, 0)
			currWrite = cloneLazyStruct(next)
			cd.i++
		}
	}
	if currWrite != nil {
		w.write(currWrite, 0)
	}
	var e Encoder
	w.finish(&e)
	dss := make([]lazyDeleteSet, len(decoded))
	for i, d := range decoded {
		dss[i] = d.ds
	}
	writeLazyDeleteSet(&e, mergeLazyDeleteSets(dss))
	return e.Bytes(), nil
}

// cloneLazyStruct copies s so merging can change its length without touching
// the decoded input.
func cloneLazyStruct(s *lazyStruct) *lazyStruct {
	c := *s
	return &c
}

// mergeWith extends s by right when both are GC runs or both skips. Items
// never merge here: Yjs compares the decoded item's right neighbour, which
// is always unset in a decoded update.
func (s *lazyStruct) mergeWith(right *lazyStruct) bool {
	if s.kind == lazyItem || s.kind != right.kind {
		return false
	}
	s.length += right.length
	return true
}

// DiffUpdate returns the part of update that a peer with the given encoded
// state vector lacks (Yjs diffUpdate). The delete set is kept whole.
func DiffUpdate(update, encodedStateVector []byte) ([]byte, error) {
	sv, err := DecodeStateVector(encodedStateVector)
	if err != nil {
		return nil, fmt.Errorf("%w: state vector: %w", ErrMalformed, err)
	}
	u, err := decodeLazyUpdate(update)
	if err != nil {
		return nil, err
	}
	var w lazyWriter
	structs := u.structs
	for i := 0; i < len(structs); {
		s := structs[i]
		if s.kind == lazySkip {
			i++
			continue
		}
		client := s.id.client
		svClock := sv[client]
		if s.id.clock+s.length > svClock {
			offset := uint64(0)
			if svClock > s.id.clock {
				offset = svClock - s.id.clock
			}
			w.write(s, offset)
			i++
			for ; i < len(structs) && structs[i].id.client == client; i++ {
				w.write(structs[i], 0)
			}
		} else {
			for ; i < len(structs) && structs[i].id.client == client && structs[i].id.clock+structs[i].length <= svClock; i++ {
			}
		}
	}
	var e Encoder
	w.finish(&e)
	writeLazyDeleteSet(&e, u.ds)
	return e.Bytes(), nil
}

// EncodeStateVectorFromUpdate returns the encoded state vector a document
// would have after applying only this update: per client, the end of the
// run of structs that starts at clock 0 without gaps (Yjs
// encodeStateVectorFromUpdate; clients in the update's order).
func EncodeStateVectorFromUpdate(update []byte) ([]byte, error) {
	u, err := decodeLazyUpdate(update)
	if err != nil {
		return nil, err
	}
	var body Encoder
	size := uint64(0)
	if len(u.structs) > 0 {
		first := u.structs[0]
		currClient := first.id.client
		stopCounting := first.id.clock != 0
		currClock := uint64(0)
		if !stopCounting {
			currClock = first.id.clock + first.length
		}
		for _, s := range u.structs {
			if s.id.client != currClient {
				if currClock != 0 {
					size++
					body.WriteVarUint(currClient)
					body.WriteVarUint(currClock)
				}
				currClient = s.id.client
				currClock = 0
				stopCounting = s.id.clock != 0
			}
			if s.kind == lazySkip {
				stopCounting = true
			}
			if !stopCounting {
				currClock = s.id.clock + s.length
			}
		}
		if currClock != 0 {
			size++
			body.WriteVarUint(currClient)
			body.WriteVarUint(currClock)
		}
	}
	var e Encoder
	e.WriteVarUint(size)
	e.WriteBytes(body.Bytes())
	return e.Bytes(), nil
}
