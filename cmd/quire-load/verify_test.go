package main

import (
	"errors"
	"testing"

	"github.com/quire/quire/crdt"
)

// stateUpdate builds a full-state update like a server's sync step 2: for
// each client, its tokens as consecutive string structs from clock 0.
func stateUpdate(clients map[uint64][]string) []byte {
	var e crdt.Encoder
	e.WriteVarUint(uint64(len(clients)))
	for client, toks := range clients {
		e.WriteVarUint(uint64(len(toks)))
		e.WriteVarUint(client)
		e.WriteVarUint(0)
		var clock uint64
		for _, tok := range toks {
			if clock == 0 {
				e.WriteUint8(refString)
				e.WriteVarUint(1)
				e.WriteVarString(textRoot)
			} else {
				e.WriteUint8(infoHasOrigin | refString)
				e.WriteVarUint(client)
				e.WriteVarUint(clock - 1)
			}
			e.WriteVarString(tok)
			clock += uint64(len(tok))
		}
	}
	e.WriteVarUint(0)
	return e.Bytes()
}

func testDoc(sent ...uint64) *docRun {
	d := &docRun{name: "d", firstClient: 11}
	for i, n := range sent {
		e := &editor{doc: d, peer: i, clientID: d.firstClient + uint64(i)}
		e.sentN.Store(n)
		d.editors = append(d.editors, e)
	}
	return d
}

func tokens(client uint64, seqs ...uint64) []string {
	var out []string
	for _, s := range seqs {
		out = append(out, string(appendToken(nil, token{client: client, seq: s, micros: 1000 + s})))
	}
	return out
}

func TestCheckDocState(t *testing.T) {
	ok := map[uint64][]string{11: tokens(11, 0, 1, 2), 12: tokens(12, 0, 1), 13: nil}
	if err := checkDocState(stateUpdate(ok), testDoc(3, 2, 0)); err != nil {
		t.Fatalf("matching state: %v", err)
	}
	uncertain := testDoc(2, 2, 0)
	uncertain.editors[0].uncertain.Store(true) // edit 2 failed mid-write: it may be there
	if err := checkDocState(stateUpdate(ok), uncertain); err != nil {
		t.Fatalf("state with the uncertain edit: %v", err)
	}
	for name, state := range map[string]map[uint64][]string{
		"missing edit":   {11: tokens(11, 0, 1), 12: tokens(12, 0, 1)},
		"duplicate edit": {11: tokens(11, 0, 1, 1, 2), 12: tokens(12, 0, 1)},
		"reordered":      {11: tokens(11, 0, 2, 1), 12: tokens(12, 0, 1)},
		"foreign client": {11: tokens(11, 0, 1, 2), 12: tokens(12, 0, 1), 99: tokens(99, 0)},
		"foreign text":   {11: append(tokens(11, 0, 1, 2), "hello"), 12: tokens(12, 0, 1)},
		"extra edit":     {11: tokens(11, 0, 1, 2, 3), 12: tokens(12, 0, 1)},
	} {
		if err := checkDocState(stateUpdate(state), testDoc(3, 2, 0)); !errors.Is(err, errDiverged) {
			t.Errorf("%s: err %v, want errDiverged", name, err)
		}
	}
	if err := checkDocState([]byte{1, 1}, testDoc(1)); !errors.Is(err, errDiverged) {
		t.Errorf("truncated state: err %v, want errDiverged", err)
	}
}
