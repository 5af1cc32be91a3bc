package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Records are binary: a format byte, then fields as uvarints, zigzag
// varints and length-prefixed strings. A reader that meets a format byte it
// does not know fails loudly instead of guessing.
const recordV1 = 1

var errCorrupt = errors.New("corrupt record")

type encoder struct{ b []byte }

func (e *encoder) byte(v byte)      { e.b = append(e.b, v) }
func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) raw(b []byte)     { e.b = append(e.b, b...) }
func (e *encoder) bool(v bool) {
	if v {
		e.byte(1)
	} else {
		e.byte(0)
	}
}
func (e *encoder) time(t time.Time) { // zero time is a flag, not an instant
	if t.IsZero() {
		e.byte(0)
		return
	}
	e.byte(1)
	e.varint(t.UnixNano())
}

// decoder reads fields until the first error, which sticks: check err once
// at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errCorrupt
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil || uint64(len(d.b)) < n {
		d.fail()
		return ""
	}
	s := string(d.b[:n]) // string() copies: safe after the transaction
	d.b = d.b[n:]
	return s
}

func (d *decoder) bool() bool { return d.byte() == 1 }

func (d *decoder) time() time.Time {
	if d.byte() == 0 {
		return time.Time{}
	}
	return time.Unix(0, d.varint()).UTC()
}

func (d *decoder) version(kind string) {
	if v := d.byte(); d.err == nil && v != recordV1 {
		d.err = fmt.Errorf("%w: %s record format %d is unknown to this build (it knows %d)", errCorrupt, kind, v, recordV1)
	}
}

// docRecord is the value in the docs bucket. It carries the counters that
// must change atomically with the log: the last seq ever handed out (never
// decreases, so seqs are never reused), the seq the snapshot covers, and
// byte counts for Size.
type docRecord struct {
	Title     string
	Created   time.Time
	Updated   time.Time
	LastSeq   uint64
	SnapSeq   uint64
	SnapBytes uint64
	LogBytes  uint64
	LogCount  uint64
}

func (r *docRecord) encode() []byte {
	e := encoder{b: make([]byte, 0, 48+len(r.Title))}
	e.byte(recordV1)
	e.str(r.Title)
	e.time(r.Created)
	e.time(r.Updated)
	e.uvarint(r.LastSeq)
	e.uvarint(r.SnapSeq)
	e.uvarint(r.SnapBytes)
	e.uvarint(r.LogBytes)
	e.uvarint(r.LogCount)
	return e.b
}

func decodeDocRecord(b []byte) (docRecord, error) {
	d := decoder{b: b}
	d.version("document")
	r := docRecord{
		Title:   d.str(),
		Created: d.time(),
		Updated: d.time(),
	}
	r.LastSeq = d.uvarint()
	r.SnapSeq = d.uvarint()
	r.SnapBytes = d.uvarint()
	r.LogBytes = d.uvarint()
	r.LogCount = d.uvarint()
	return r, d.err
}

func (r *docRecord) meta(id string) DocMeta {
	return DocMeta{ID: id, Title: r.Title, Created: r.Created, Updated: r.Updated, Size: int64(r.SnapBytes + r.LogBytes)}
}

// Version values: header fields, then the state bytes to the end, so a
// listing reads the header without copying the state.
func encodeVersion(v *Version) []byte {
	e := encoder{b: make([]byte, 0, 32+len(v.Name)+len(v.State))}
	e.byte(recordV1)
	e.str(v.Name)
	e.time(v.Created)
	e.raw(v.State)
	return e.b
}

func decodeVersion(docID, id string, b []byte, withState bool) (Version, error) {
	d := decoder{b: b}
	d.version("version")
	v := Version{ID: id, DocID: docID, Name: d.str(), Created: d.time()}
	if d.err != nil {
		return Version{}, d.err
	}
	v.Size = int64(len(d.b))
	if withState {
		v.State = append([]byte(nil), d.b...)
	}
	return v, nil
}

func encodeShare(t *ShareToken) []byte {
	e := encoder{b: make([]byte, 0, 96+len(t.ID)+len(t.DocID))}
	e.byte(recordV1)
	e.str(t.ID)
	e.str(t.DocID)
	e.str(string(t.Role))
	e.time(t.Created)
	e.time(t.ExpiresAt)
	e.bool(t.Revoked)
	return e.b
}

func decodeShare(b []byte) (ShareToken, error) {
	d := decoder{b: b}
	d.version("share token")
	t := ShareToken{ID: d.str(), DocID: d.str(), Role: Role(d.str()), Created: d.time(), ExpiresAt: d.time()}
	t.Revoked = d.bool()
	return t, d.err
}

// logPrefix starts every log key of a document: uvarint(len(id)) ‖ id.
// A uvarint is prefix-free, so no document's prefix begins another's keys.
func logPrefix(id string) []byte {
	p := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(id)+8), uint64(len(id)))
	return append(p, id...)
}

// logKey is prefix ‖ seq, the seq big-endian so byte order is numeric order.
func logKey(prefix []byte, seq uint64) []byte {
	k := make([]byte, 0, len(prefix)+8)
	return binary.BigEndian.AppendUint64(append(k, prefix...), seq)
}

// splitLogKey undoes logKey.
func splitLogKey(k []byte) (id string, seq uint64, ok bool) {
	n, w := binary.Uvarint(k)
	if w <= 0 || uint64(len(k)-w) != n+8 {
		return "", 0, false
	}
	return string(k[w : w+int(n)]), binary.BigEndian.Uint64(k[w+int(n):]), true
}

// timeKeyDesc maps an instant to 8 bytes that sort newest first. The sign
// bit is flipped first so instants before 1970 still order correctly.
func timeKeyDesc(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, ^(uint64(t.UnixNano()) ^ 1<<63))
}

// titleContains reports whether an encoded docRecord's title contains
// lowerFilter, ignoring case, reading the title in place: a filtered
// listing tests every document, so it must not decode each one.
func titleContains(rec []byte, lowerFilter string) bool {
	d := decoder{b: rec}
	d.version("document")
	n := d.uvarint()
	if d.err != nil || uint64(len(d.b)) < n {
		return false
	}
	title := d.b[:n]
	for _, c := range title {
		if c >= utf8.RuneSelf { // non-ASCII: let Unicode case mapping decide
			return strings.Contains(strings.ToLower(string(title)), lowerFilter)
		}
	}
	// ASCII title: compare bytes with A-Z folded, no allocation.
	f := lowerFilter
	for i := 0; i+len(f) <= len(title); i++ {
		j := 0
		for j < len(f) {
			c := title[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != f[j] {
				break
			}
			j++
		}
		if j == len(f) {
			return true
		}
	}
	return false
}
