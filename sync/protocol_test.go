package sync

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/quire/quire/crdt"
)

// golden holds messages made by real y-protocols (testdata/yprotocols/gen.mjs).
type golden struct {
	StateVector      string            `json:"stateVector"`
	StateVectorOther string            `json:"stateVectorOther"`
	FullUpdate       string            `json:"fullUpdate"`
	DiffUpdate       string            `json:"diffUpdate"`
	Text             string            `json:"text"`
	SyncStep1        string            `json:"syncStep1"`
	SyncStep2        string            `json:"syncStep2"`
	Update           string            `json:"update"`
	QueryAwareness   string            `json:"queryAwareness"`
	PermissionDenied string            `json:"permissionDenied"`
	Awareness        string            `json:"awareness"`
	AwarenessEntries []goldenAwareness `json:"awarenessEntries"`
}

type goldenAwareness struct {
	ClientID uint64 `json:"clientID"`
	Clock    uint64 `json:"clock"`
	State    string `json:"state"`
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	b, err := os.ReadFile("testdata/yprotocols/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncodeMatchesYProtocols(t *testing.T) {
	g := loadGolden(t)
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"sync step 1", encodeSyncStep1(unhex(t, g.StateVector)), g.SyncStep1},
		{"sync step 2", encodeSyncStep2(unhex(t, g.DiffUpdate)), g.SyncStep2},
		{"update", encodeUpdate(unhex(t, g.FullUpdate)), g.Update},
		{"query awareness", encodeQueryAwareness(), g.QueryAwareness},
		{"permission denied", encodePermissionDenied("no access to this document"), g.PermissionDenied},
	}
	var entries []awarenessEntry
	for _, e := range g.AwarenessEntries {
		entries = append(entries, awarenessEntry{clientID: e.ClientID, clock: e.Clock, state: e.State})
	}
	cases = append(cases, struct {
		name string
		got  []byte
		want string
	}{"awareness", encodeAwareness(entries), g.Awareness})
	for _, c := range cases {
		if got := hex.EncodeToString(c.got); got != c.want {
			t.Errorf("%s: got %s, y-protocols %s", c.name, got, c.want)
		}
	}
}

// The server's step 2 for a peer, built from our own crdt.Doc, is the same
// message y-protocols sends.
func TestSyncStep2FromDocMatchesYProtocols(t *testing.T) {
	g := loadGolden(t)
	doc := crdt.NewDoc()
	if err := doc.ApplyUpdate(unhex(t, g.FullUpdate)); err != nil {
		t.Fatal(err)
	}
	if got := doc.GetText("t").String(); got != g.Text {
		t.Fatalf("text %q, want %q", got, g.Text)
	}
	upd, err := doc.EncodeStateAsUpdate(unhex(t, g.StateVectorOther))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(encodeSyncStep2(upd)); got != g.SyncStep2 {
		t.Errorf("step 2 %s, y-protocols %s", got, g.SyncStep2)
	}
	if got := hex.EncodeToString(encodeSyncStep1(doc.EncodeStateVector())); got != g.SyncStep1 {
		t.Errorf("step 1 %s, y-protocols %s", got, g.SyncStep1)
	}
}

func TestDecodeYProtocolsMessages(t *testing.T) {
	g := loadGolden(t)
	in, err := decodeInbound(unhex(t, g.SyncStep1))
	if err != nil || in.kind != inSyncStep1 || !bytes.Equal(in.payload, unhex(t, g.StateVector)) {
		t.Errorf("step 1: %+v, %v", in, err)
	}
	in, err = decodeInbound(unhex(t, g.SyncStep2))
	if err != nil || in.kind != inUpdate || !bytes.Equal(in.payload, unhex(t, g.DiffUpdate)) {
		t.Errorf("step 2: %+v, %v", in, err)
	}
	in, err = decodeInbound(unhex(t, g.Update))
	if err != nil || in.kind != inUpdate || !bytes.Equal(in.payload, unhex(t, g.FullUpdate)) {
		t.Errorf("update: %+v, %v", in, err)
	}
	in, err = decodeInbound(unhex(t, g.QueryAwareness))
	if err != nil || in.kind != inQueryAwareness {
		t.Errorf("query awareness: %+v, %v", in, err)
	}
	in, err = decodeInbound(unhex(t, g.PermissionDenied))
	if err != nil || in.kind != inIgnored {
		t.Errorf("auth from a client is ignored: %+v, %v", in, err)
	}
	in, err = decodeInbound(unhex(t, g.Awareness))
	if err != nil || in.kind != inAwareness || len(in.awareness) != len(g.AwarenessEntries) {
		t.Fatalf("awareness: %+v, %v", in, err)
	}
	for i, e := range g.AwarenessEntries {
		got := in.awareness[i]
		if got.clientID != e.ClientID || got.clock != e.Clock || got.state != e.State {
			t.Errorf("awareness entry %d: %+v, want %+v", i, got, e)
		}
	}
	if !in.awareness[1].removed() || in.awareness[0].removed() {
		t.Errorf("removal flags wrong: %+v", in.awareness)
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	g := loadGolden(t)
	step1 := unhex(t, g.SyncStep1)
	aw := unhex(t, g.Awareness)
	badJSON := func() []byte {
		var inner crdt.Encoder
		inner.WriteVarUint(1)
		inner.WriteVarUint(7)
		inner.WriteVarUint(1)
		inner.WriteVarString("{not json")
		var e crdt.Encoder
		e.WriteVarUint(msgAwareness)
		e.WriteVarBytes(inner.Bytes())
		return e.Bytes()
	}()
	for name, frame := range map[string][]byte{
		"empty":                {},
		"sync without subtype": {0},
		"unknown sync subtype": {0, 9, 0},
		"truncated payload":    step1[:len(step1)-2],
		"bad state vector":     {0, 0, 2, 5, 0x80},
		"truncated awareness":  aw[:len(aw)-3],
		"awareness not JSON":   badJSON,
		"huge awareness count": {1, 3, 0xff, 0xff, 0x03},
		"overlong varint type": {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		if _, err := decodeInbound(frame); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", name, err)
		}
	}
	// Unknown top-level types are ignored, as y-websocket does.
	if in, err := decodeInbound([]byte{7, 1, 2}); err != nil || in.kind != inIgnored {
		t.Errorf("unknown type: %+v, %v", in, err)
	}
}

func TestAwarenessRules(t *testing.T) {
	var a awareness
	s1, s2 := &session{id: 1}, &session{id: 2}
	now := time.Unix(1000, 0)
	state := `{"user":"a"}`
	if got := a.apply([]awarenessEntry{{7, 1, state}}, s1, now); len(got) != 1 {
		t.Fatalf("first state not accepted: %v", got)
	}
	if got := a.apply([]awarenessEntry{{7, 1, `{"user":"stale"}`}}, s1, now); len(got) != 0 {
		t.Errorf("same clock with a state must be ignored: %v", got)
	}
	if got := a.apply([]awarenessEntry{{7, 0, `{"user":"old"}`}}, s1, now); len(got) != 0 {
		t.Errorf("older clock must be ignored: %v", got)
	}
	if live := a.live(); len(live) != 1 || live[0].state != state {
		t.Errorf("live %v", live)
	}
	// The same client id now sent from another session moves ownership, so
	// the first session leaving does not remove it.
	a.apply([]awarenessEntry{{7, 2, state}}, s2, now)
	if gone := a.removeOwnedBy(s1); len(gone) != 0 {
		t.Errorf("s1 no longer owns 7: %v", gone)
	}
	gone := a.removeOwnedBy(s2)
	if len(gone) != 1 || gone[0] != (awarenessEntry{7, 2, "null"}) {
		t.Errorf("removal on leave: %v, want 7 at clock 2 null", gone)
	}
	// A removal at the same clock as a live state is accepted once.
	a.apply([]awarenessEntry{{8, 3, state}}, s1, now)
	if got := a.apply([]awarenessEntry{{8, 3, "null"}}, s1, now); len(got) != 1 {
		t.Errorf("same-clock removal must be accepted: %v", got)
	}
	if got := a.apply([]awarenessEntry{{8, 3, "null"}}, s1, now); len(got) != 0 {
		t.Errorf("repeated removal must be ignored: %v", got)
	}
	// Expiry: states not renewed within the timeout are removed.
	a.apply([]awarenessEntry{{9, 1, state}}, s1, now)
	if gone := a.expire(now.Add(29*time.Second), 30*time.Second); len(gone) != 0 {
		t.Errorf("expired too early: %v", gone)
	}
	gone = a.expire(now.Add(30*time.Second), 30*time.Second)
	if len(gone) != 1 || gone[0] != (awarenessEntry{9, 1, "null"}) {
		t.Errorf("expiry: %v", gone)
	}
	if len(s1.awarenessIDs) != 0 {
		t.Errorf("owner still lists expired ids: %v", s1.awarenessIDs)
	}
}

// A client back after its session ended re-announces its state at the
// clock the room's removal already has: the room refuses it and answers with
// that removal (which makes a y-protocols client bump its clock), and only
// the newer clock is accepted.
func TestAwarenessRemovalSentBackToReturningClient(t *testing.T) {
	var a awareness
	old, back := &session{id: 1}, &session{id: 2}
	now := time.Unix(1000, 0)
	state := `{"user":"a"}`
	a.apply([]awarenessEntry{{7, 4, state}}, old, now)
	a.removeOwnedBy(old)
	again := []awarenessEntry{{7, 4, state}, {9, 1, state}}
	if got := a.apply(again, back, now); len(got) != 1 || got[0].clientID != 9 {
		t.Fatalf("accepted %v, want only the new client 9", got)
	}
	if got := a.removalsFor(again); len(got) != 1 || got[0] != (awarenessEntry{7, 4, "null"}) {
		t.Fatalf("removals for the returning client: %v, want 7 at clock 4 null", got)
	}
	if got := a.removalsFor([]awarenessEntry{{7, 5, state}, {9, 1, "null"}}); len(got) != 0 {
		t.Errorf("a newer clock or a removal needs no answer: %v", got)
	}
	if got := a.apply([]awarenessEntry{{7, 5, state}}, back, now); len(got) != 1 {
		t.Errorf("the bumped clock must be accepted: %v", got)
	}
}

func TestCloseText(t *testing.T) {
	long := strings.Repeat("é", 100)
	got := closeText(MalformedMessage, long)
	if len(got) > 123 || !strings.HasPrefix(got, "malformed message: é") || !utf8Valid(got) {
		t.Errorf("close text %q (%d bytes)", got, len(got))
	}
	for _, r := range AllCloseReasons() {
		if r.String() == "" || strings.HasPrefix(r.String(), "reason_") {
			t.Errorf("reason %d has no name", r)
		}
		if c := r.Code(); c != 0 && (c < 1000 || c > 4999) {
			t.Errorf("%s: code %d", r, c)
		}
	}
	if !DocumentDeleted.Final() || SlowConsumer.Final() || ServerShutdown.Final() {
		t.Error("final/transient classification wrong")
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
