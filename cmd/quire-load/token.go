package main

import (
	"errors"
	"strconv"
)

// Each edit appends one token "<client>.<seq>.<micros>;" (numbers in base 36):
// the Yjs client id of the editor, its edit sequence number from 0, and the
// send time in microseconds since the run began. Receivers read latency from
// it; the final check finds every token in the document text.

// token is one parsed edit marker.
type token struct {
	client, seq, micros uint64
}

var errBadToken = errors.New("text is not a sequence of load tokens")

// appendToken appends the token text for t to dst.
func appendToken(dst []byte, t token) []byte {
	dst = strconv.AppendUint(dst, t.client, 36)
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, t.seq, 36)
	dst = append(dst, '.')
	dst = strconv.AppendUint(dst, t.micros, 36)
	return append(dst, ';')
}

// parseTokens calls fn for each token in s, which must consist of whole
// tokens only.
func parseTokens(s []byte, fn func(t token)) error {
	for len(s) > 0 {
		var fields [3]uint64
		i := 0
		for f := range fields {
			v, next, ok := parseBase36(s, i)
			want := byte('.')
			if f == len(fields)-1 {
				want = ';'
			}
			if !ok || next >= len(s) || s[next] != want {
				return errBadToken
			}
			fields[f] = v
			i = next + 1
		}
		fn(token{client: fields[0], seq: fields[1], micros: fields[2]})
		s = s[i:]
	}
	return nil
}

// parseBase36 reads lowercase base-36 digits from s[i:], returning the value
// and the index of the first byte after them; ok is false if there are none
// or the value overflows.
func parseBase36(s []byte, i int) (v uint64, next int, ok bool) {
	start := i
	for ; i < len(s); i++ {
		c := s[i]
		var dv byte
		switch {
		case c >= '0' && c <= '9':
			dv = c - '0'
		case c >= 'a' && c <= 'z':
			dv = c - 'a' + 10
		default:
			return v, i, i > start
		}
		if v > (1<<63)/36 {
			return 0, i, false
		}
		v = v*36 + uint64(dv)
	}
	return v, i, i > start
}
