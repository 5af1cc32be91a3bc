package main

import (
	"errors"
	"slices"
	"strings"
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
			appendStringItem(&e, client, clock, []byte(tok))
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
	if _, err := checkDocState(stateUpdate(ok), testDoc(3, 2, 0)); err != nil {
		t.Fatalf("matching state: %v", err)
	}
	uncertain := testDoc(2, 2, 0)
	uncertain.editors[0].uncertain.Store(true) // edit 2 failed mid-write: it may be there
	if _, err := checkDocState(stateUpdate(ok), uncertain); err != nil {
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
		if _, err := checkDocState(stateUpdate(state), testDoc(3, 2, 0)); !errors.Is(err, errDiverged) {
			t.Errorf("%s: err %v, want errDiverged", name, err)
		}
	}
	if _, err := checkDocState([]byte{1, 1}, testDoc(1)); !errors.Is(err, errDiverged) {
		t.Errorf("truncated state: err %v, want errDiverged", err)
	}
}

// The editors' own updates, merged as a server would hold them, must read
// back as whole runs through crdt.Doc.
func TestCheckDocStateThroughCRDT(t *testing.T) {
	doc := testDoc(5, 3, 4)
	var updates [][]byte
	clocks := make([]uint64, 3)
	// Interleave the editors' edits as a server might receive them.
	for round := range 5 {
		for p, e := range doc.editors {
			if uint64(round) >= e.sentN.Load() {
				continue
			}
			tok := appendToken(nil, token{client: e.clientID, seq: uint64(round), micros: 7})
			var enc crdt.Encoder
			appendAppendUpdate(&enc, e.clientID, clocks[p], tok)
			clocks[p] += uint64(len(tok))
			updates = append(updates, enc.Bytes())
		}
	}
	merged, err := crdt.MergeUpdates(updates)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := checkDocState(merged, doc); err != nil {
		t.Fatalf("merged editor updates: %v", err)
	}
	// Applied one by one in a crdt.Doc, then re-encoded, as a server does.
	d := crdt.NewDoc()
	for _, u := range updates {
		if err := d.ApplyUpdate(u); err != nil {
			t.Fatal(err)
		}
	}
	state, err := d.EncodeStateAsUpdate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := checkDocState(state, doc); err != nil {
		t.Fatalf("re-encoded state: %v", err)
	}
}

// A state whose structs hold every token once, in order, can still be wrong
// as a document: here client 12's second edit names a character inside
// client 11's run as its origin, splitting that run.
func TestCheckDocStateFindsSplitRuns(t *testing.T) {
	a0, a1 := tokens(11, 0, 1), tokens(12, 0, 1)
	var e crdt.Encoder
	e.WriteVarUint(2)
	// client 12: first edit at the start, second after client 11's first token
	e.WriteVarUint(2)
	e.WriteVarUint(12)
	e.WriteVarUint(0)
	appendStringItem(&e, 12, 0, []byte(a1[0]))
	e.WriteUint8(infoHasOrigin | refString)
	e.WriteVarUint(11)
	e.WriteVarUint(uint64(len(a0[0]) - 1))
	e.WriteVarString(a1[1])
	// client 11: two edits chained after its own text
	e.WriteVarUint(2)
	e.WriteVarUint(11)
	e.WriteVarUint(0)
	appendStringItem(&e, 11, 0, []byte(a0[0]))
	appendStringItem(&e, 11, uint64(len(a0[0])), []byte(a0[1]))
	e.WriteVarUint(0)
	_, err := checkDocState(e.Bytes(), testDoc(2, 2))
	if !errors.Is(err, errDiverged) || !strings.HasPrefix(err.Error(), "document text") {
		t.Fatalf("err %v, want errDiverged from the document text (the raw structs look right)", err)
	}
}

func TestCheckDocStateFindsMissingDependencies(t *testing.T) {
	tok := tokens(11, 1)[0]
	var e crdt.Encoder
	e.WriteVarUint(1)
	e.WriteVarUint(1)
	e.WriteVarUint(11)
	e.WriteVarUint(20) // clocks 0-19 (edit 0) are missing
	e.WriteUint8(infoHasOrigin | refString)
	e.WriteVarUint(11)
	e.WriteVarUint(19)
	e.WriteVarString(tok)
	e.WriteVarUint(0)
	if _, err := checkDocState(e.Bytes(), testDoc(2)); !errors.Is(err, errDiverged) {
		t.Fatalf("err %v, want errDiverged", err)
	}
}

// A connection the server dropped may lose the edits it never echoed, not
// the ones it did: those were acknowledged.
func TestCheckDocStateDroppedConnection(t *testing.T) {
	state := stateUpdate(map[uint64][]string{11: tokens(11, 0, 1, 2), 12: tokens(12, 0, 1)})
	doc := testDoc(5, 2)
	dropped := doc.editors[0]
	dropped.dead.Store(true)
	dropped.echoed.Store(2)
	counts, err := checkDocState(state, doc)
	if err != nil {
		t.Fatalf("unechoed edits missing: %v", err)
	}
	if !slices.Equal(counts, []uint64{3, 2}) {
		t.Fatalf("counts %v, want [3 2]", counts)
	}
	dropped.echoed.Store(4)
	if _, err := checkDocState(state, doc); !errors.Is(err, errDiverged) {
		t.Fatalf("echoed edit missing: err %v, want errDiverged", err)
	}
}

func TestLiveDeliveries(t *testing.T) {
	r := &runner{}
	doc := testDoc(10, 4, 6)
	r.docs = []*docRun{doc}
	for _, e := range doc.editors {
		e.applied.Store(-1)
		e.synced.Store(true)
		e.echoed.Store(e.sentN.Load())
	}
	dropped := doc.editors[2]
	dropped.dead.Store(true)
	dropped.echoed.Store(3) // before the check, 3 of its 6 edits count
	doc.editors[0].received.Store(4 + 3)
	doc.editors[1].received.Store(10 + 2)
	got, want, missingEchoes := r.liveDeliveries()
	if got != 7+12 || want != 7+13 || missingEchoes != 0 {
		t.Fatalf("got %d want %d missing echoes %d; want 19, 20, 0", got, want, missingEchoes)
	}
	dropped.applied.Store(5) // the final state holds 5 of its edits
	if _, want, _ := r.liveDeliveries(); want != 9+15 {
		t.Fatalf("want %d after the check, want 24", want)
	}
}
