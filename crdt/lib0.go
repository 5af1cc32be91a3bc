package crdt

import (
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// lib0 is the binary encoding Yjs and y-protocols use: variable-length
// unsigned and signed integers, length-prefixed strings and byte arrays, and
// the self-describing Any value. Integers are capped at 2^53-1 like lib0,
// whose numbers are JavaScript doubles.

// Decoding errors. Every decoder error wraps one of these.
var (
	// ErrUnexpectedEOF means the input ended in the middle of a value.
	ErrUnexpectedEOF = errors.New("crdt: unexpected end of input")
	// ErrIntegerOverflow means a variable-length integer exceeds 2^53-1,
	// the largest integer lib0 can represent.
	ErrIntegerOverflow = errors.New("crdt: integer out of range")
	// ErrInvalidUTF8 means a string is not valid UTF-8 (lib0 decodes strictly).
	ErrInvalidUTF8 = errors.New("crdt: invalid UTF-8 in string")
	// ErrMalformed means the input is structurally invalid.
	ErrMalformed = errors.New("crdt: malformed input")
)

// maxSafeInteger is JavaScript's Number.MAX_SAFE_INTEGER.
const maxSafeInteger = 1<<53 - 1

// Encoder accumulates lib0-encoded bytes. The zero value is ready to use.
type Encoder struct {
	buf []byte
}

// NewEncoderSize returns an encoder whose buffer is preallocated to n bytes.
func NewEncoderSize(n int) *Encoder { return &Encoder{buf: make([]byte, 0, n)} }

// Bytes returns the encoded bytes. The slice aliases the encoder's buffer.
func (e *Encoder) Bytes() []byte { return e.buf }

// Len returns the number of bytes written so far.
func (e *Encoder) Len() int { return len(e.buf) }

// Reset empties the encoder, keeping its buffer.
func (e *Encoder) Reset() { e.buf = e.buf[:0] }

// WriteUint8 writes one byte.
func (e *Encoder) WriteUint8(b byte) { e.buf = append(e.buf, b) }

// WriteVarUint writes v 7 bits at a time, least significant group first.
func (e *Encoder) WriteVarUint(v uint64) {
	for v > 0x7f {
		e.buf = append(e.buf, byte(v)|0x80)
		v >>= 7
	}
	e.buf = append(e.buf, byte(v))
}

// WriteVarInt writes v as lib0 writeVarInt does: the first byte carries a
// continuation bit, a sign bit and 6 value bits; later bytes carry 7 bits.
func (e *Encoder) WriteVarInt(v int64) {
	neg := v < 0
	var mag uint64
	if neg {
		mag = uint64(-v)
	} else {
		mag = uint64(v)
	}
	e.writeVarIntSign(mag, neg)
}

// writeVarIntSign writes a magnitude with an explicit sign so that negative
// zero (which lib0 emits for the JavaScript number -0) can be written.
func (e *Encoder) writeVarIntSign(mag uint64, neg bool) {
	b := byte(mag & 0x3f)
	if neg {
		b |= 0x40
	}
	if mag > 0x3f {
		b |= 0x80
	}
	e.buf = append(e.buf, b)
	mag >>= 6
	for mag > 0 {
		b := byte(mag & 0x7f)
		if mag > 0x7f {
			b |= 0x80
		}
		e.buf = append(e.buf, b)
		mag >>= 7
	}
}

// WriteVarString writes the UTF-8 bytes of s prefixed by their length.
// Invalid UTF-8 is replaced by U+FFFD, as lib0 does for lone surrogates.
func (e *Encoder) WriteVarString(s string) {
	if !utf8.ValidString(s) {
		s = toValidUTF8(s)
	}
	e.WriteVarUint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// WriteVarBytes writes b prefixed by its length (lib0 writeVarUint8Array).
func (e *Encoder) WriteVarBytes(b []byte) {
	e.WriteVarUint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

// WriteBytes writes b as is, without a length prefix.
func (e *Encoder) WriteBytes(b []byte) { e.buf = append(e.buf, b...) }

// WriteFloat32 writes v big-endian.
func (e *Encoder) WriteFloat32(v float32) {
	u := math.Float32bits(v)
	e.buf = append(e.buf, byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
}

// WriteFloat64 writes v big-endian.
func (e *Encoder) WriteFloat64(v float64) {
	u := math.Float64bits(v)
	e.buf = append(e.buf, byte(u>>56), byte(u>>48), byte(u>>40), byte(u>>32),
		byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
}

// WriteBigInt64 writes v big-endian in two's complement.
func (e *Encoder) WriteBigInt64(v int64) {
	u := uint64(v)
	e.buf = append(e.buf, byte(u>>56), byte(u>>48), byte(u>>40), byte(u>>32),
		byte(u>>24), byte(u>>16), byte(u>>8), byte(u))
}

// toValidUTF8 replaces each invalid byte with U+FFFD.
func toValidUTF8(s string) string {
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, "\uFFFD"...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// Decoder reads lib0-encoded values from a byte slice. Every method checks
// bounds and returns an error instead of panicking.
type Decoder struct {
	buf []byte
	pos int
}

// NewDecoder returns a decoder reading b from its start.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Len returns the number of bytes not yet read.
func (d *Decoder) Len() int { return len(d.buf) - d.pos }

// Pos returns the read offset from the start of the input.
func (d *Decoder) Pos() int { return d.pos }

// ReadUint8 reads one byte.
func (d *Decoder) ReadUint8() (byte, error) {
	if d.pos >= len(d.buf) {
		return 0, ErrUnexpectedEOF
	}
	b := d.buf[d.pos]
	d.pos++
	return b, nil
}

// ReadVarUint reads an unsigned variable-length integer of at most 2^53-1.
func (d *Decoder) ReadVarUint() (uint64, error) {
	// Fast path: one byte.
	if d.pos < len(d.buf) && d.buf[d.pos] < 0x80 {
		v := uint64(d.buf[d.pos])
		d.pos++
		return v, nil
	}
	var v uint64
	var shift uint
	for d.pos < len(d.buf) {
		r := d.buf[d.pos]
		d.pos++
		if shift >= 56 {
			return 0, ErrIntegerOverflow
		}
		v |= uint64(r&0x7f) << shift
		shift += 7
		if r < 0x80 {
			if v > maxSafeInteger {
				return 0, ErrIntegerOverflow
			}
			return v, nil
		}
		if v > maxSafeInteger {
			return 0, ErrIntegerOverflow
		}
	}
	return 0, ErrUnexpectedEOF
}

// ReadVarInt reads a signed variable-length integer. Negative zero reads as 0.
func (d *Decoder) ReadVarInt() (int64, error) {
	mag, neg, err := d.readVarIntSign()
	if err != nil {
		return 0, err
	}
	if neg {
		return -int64(mag), nil
	}
	return int64(mag), nil
}

func (d *Decoder) readVarIntSign() (mag uint64, neg bool, err error) {
	if d.pos >= len(d.buf) {
		return 0, false, ErrUnexpectedEOF
	}
	r := d.buf[d.pos]
	d.pos++
	mag = uint64(r & 0x3f)
	neg = r&0x40 != 0
	if r&0x80 == 0 {
		return mag, neg, nil
	}
	shift := uint(6)
	for d.pos < len(d.buf) {
		r = d.buf[d.pos]
		d.pos++
		if shift >= 55 {
			return 0, false, ErrIntegerOverflow
		}
		mag |= uint64(r&0x7f) << shift
		shift += 7
		if mag > maxSafeInteger {
			return 0, false, ErrIntegerOverflow
		}
		if r < 0x80 {
			return mag, neg, nil
		}
	}
	return 0, false, ErrUnexpectedEOF
}

// readLen reads a length prefix and checks it against the bytes left.
func (d *Decoder) readLen() (int, error) {
	n, err := d.ReadVarUint()
	if err != nil {
		return 0, err
	}
	if n > uint64(d.Len()) {
		return 0, fmt.Errorf("%w: length %d exceeds %d remaining bytes", ErrUnexpectedEOF, n, d.Len())
	}
	return int(n), nil
}

// ReadVarBytes reads a length-prefixed byte array. The result aliases the
// input: copy it if you keep it.
func (d *Decoder) ReadVarBytes() ([]byte, error) {
	n, err := d.readLen()
	if err != nil {
		return nil, err
	}
	b := d.buf[d.pos : d.pos+n : d.pos+n]
	d.pos += n
	return b, nil
}

// ReadBytes reads n raw bytes. The result aliases the input.
func (d *Decoder) ReadBytes(n int) ([]byte, error) {
	if n < 0 || n > d.Len() {
		return nil, ErrUnexpectedEOF
	}
	b := d.buf[d.pos : d.pos+n : d.pos+n]
	d.pos += n
	return b, nil
}

// ReadVarString reads a length-prefixed UTF-8 string. Invalid UTF-8 is an
// error, as with lib0's fatal TextDecoder.
func (d *Decoder) ReadVarString() (string, error) {
	n, err := d.readLen()
	if err != nil {
		return "", err
	}
	b := d.buf[d.pos : d.pos+n]
	if !utf8.Valid(b) {
		return "", ErrInvalidUTF8
	}
	d.pos += n
	return string(b), nil
}

// ReadFloat32 reads a big-endian float32.
func (d *Decoder) ReadFloat32() (float32, error) {
	b, err := d.ReadBytes(4)
	if err != nil {
		return 0, err
	}
	return math.Float32frombits(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])), nil
}

// ReadFloat64 reads a big-endian float64.
func (d *Decoder) ReadFloat64() (float64, error) {
	u, err := d.readUint64BE()
	return math.Float64frombits(u), err
}

// ReadBigInt64 reads a big-endian two's complement int64.
func (d *Decoder) ReadBigInt64() (int64, error) {
	u, err := d.readUint64BE()
	return int64(u), err
}

func (d *Decoder) readUint64BE() (uint64, error) {
	b, err := d.ReadBytes(8)
	if err != nil {
		return 0, err
	}
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7]), nil
}
