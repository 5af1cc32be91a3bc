package main

import (
	"errors"
	"slices"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	want := []token{{1, 0, 0}, {12000, 35, 36}, {1<<32 - 1, 1 << 40, 1<<62 + 5}}
	var text []byte
	for _, tk := range want {
		text = appendToken(text, tk)
	}
	var got []token
	if err := parseTokens(text, func(tk token) { got = append(got, tk) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if string(appendToken(nil, token{7, 1, 100})) != "7.1.2s;" {
		t.Fatalf("token text %q", appendToken(nil, token{7, 1, 100}))
	}
}

func TestParseTokensRejectsOtherText(t *testing.T) {
	for _, s := range []string{"a.b", "a.b.c", "a.b.c;x", "..;", "A.1.1;", "1.1;", "hello", "1.1.1;1.1", "zzzzzzzzzzzzzzzzzz.0.0;"} {
		n := 0
		err := parseTokens([]byte(s), func(token) { n++ })
		if !errors.Is(err, errBadToken) {
			t.Errorf("%q: err %v, want errBadToken", s, err)
		}
	}
}
