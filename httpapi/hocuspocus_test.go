package httpapi

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/quire/quire/crdt"
	"github.com/quire/quire/storage"
	qsync "github.com/quire/quire/sync"
)

// hpClient speaks Hocuspocus 4 on one socket, frame by frame, to check the
// server's exact answers (the real provider is exercised in e2e/hocuspocus).
type hpClient struct {
	t      testing.TB
	c      *websocket.Conn
	frames chan []byte
	closed chan websocket.CloseError
}

func (e *testEnv) dialHP() *hpClient {
	e.t.Helper()
	url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + HocuspocusPath
	c, _, err := websocket.Dial(context.Background(), url, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	c.SetReadLimit(64 << 20)
	h := &hpClient{t: e.t, c: c, frames: make(chan []byte, 4096), closed: make(chan websocket.CloseError, 1)}
	go func() {
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				var ce websocket.CloseError
				errors.As(err, &ce)
				h.closed <- ce
				return
			}
			h.frames <- b
		}
	}()
	e.t.Cleanup(func() { _ = c.CloseNow() })
	return h
}

func (h *hpClient) send(frame []byte) {
	h.t.Helper()
	if err := h.c.Write(context.Background(), websocket.MessageBinary, frame); err != nil {
		h.t.Fatal(err)
	}
}

func hpMsg(address string, typ uint64, body ...func(e *crdt.Encoder)) []byte {
	var e crdt.Encoder
	e.WriteVarString(address)
	e.WriteVarUint(typ)
	for _, b := range body {
		b(&e)
	}
	return e.Bytes()
}

func hpAuth(address, token string) []byte {
	return hpMsg(address, 2, func(e *crdt.Encoder) { e.WriteVarUint(0); e.WriteVarString(token); e.WriteVarString("4.8.0") })
}

func hpSync(address string, sub uint64, payload []byte) []byte {
	return hpMsg(address, 0, func(e *crdt.Encoder) { e.WriteVarUint(sub); e.WriteVarBytes(payload) })
}

// hpIn is a received frame, decoded.
type hpIn struct {
	bare    bool
	address string
	typ     uint64
	sub     uint64 // sync and auth sub-type; SyncStatus value
	payload []byte // sync payload
	text    string // auth scope or reason, stateless payload, close reason
	raw     []byte
}

func decodeHPIn(b []byte) (hpIn, error) {
	if len(b) == 1 {
		return hpIn{bare: true, typ: uint64(b[0]), raw: b}, nil
	}
	d := crdt.NewDecoder(b)
	in := hpIn{raw: b}
	var err error
	if in.address, err = d.ReadVarString(); err != nil {
		return in, err
	}
	if in.typ, err = d.ReadVarUint(); err != nil {
		return in, err
	}
	switch in.typ {
	case 0:
		if in.sub, err = d.ReadVarUint(); err == nil {
			in.payload, err = d.ReadVarBytes()
		}
	case 2:
		if in.sub, err = d.ReadVarUint(); err == nil {
			in.text, err = d.ReadVarString()
		}
	case 5, 7:
		in.text, err = d.ReadVarString()
	case 8:
		in.sub, err = d.ReadVarUint()
	}
	return in, err
}

// next returns the next frame, skipping awareness and Ping unless asked.
func (h *hpClient) next(keepAwareness bool) hpIn {
	h.t.Helper()
	for {
		select {
		case b := <-h.frames:
			in, err := decodeHPIn(b)
			if err != nil {
				h.t.Fatalf("undecodable frame %x: %v", b, err)
			}
			if (in.typ == 1 && !keepAwareness) || (in.bare && in.typ == 9) {
				continue
			}
			return in
		case ce := <-h.closed:
			h.t.Fatalf("socket closed: %d %q", ce.Code, ce.Reason)
		case <-time.After(10 * time.Second):
			h.t.Fatal("no frame within 10 s")
		}
	}
}

// quiet checks that nothing but awareness and Ping arrives for d.
func (h *hpClient) quiet(d time.Duration) {
	h.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case b := <-h.frames:
			if in, _ := decodeHPIn(b); in.typ != 1 && !(in.bare && in.typ == 9) {
				h.t.Fatalf("unexpected frame %x", b)
			}
		case <-deadline:
			return
		}
	}
}

func (h *hpClient) expect(address string, typ, sub uint64) hpIn {
	h.t.Helper()
	in := h.next(false)
	if in.address != address || in.typ != typ || (typ != 5 && typ != 7 && in.sub != sub) {
		h.t.Fatalf("got address %q type %d sub %d (%q), want %q type %d sub %d", in.address, in.typ, in.sub, in.text, address, typ, sub)
	}
	return in
}

// attach authenticates address and completes the sync handshake as the
// provider does; it returns the client's replica of the document.
func (h *hpClient) attach(address, token string) *crdt.Doc {
	h.t.Helper()
	doc := crdt.NewDoc()
	h.send(hpAuth(address, token))
	h.send(hpSync(address, 0, doc.EncodeStateVector()))
	h.expect(address, 2, 2)
	step1 := h.expect(address, 0, 0)
	step2 := h.expect(address, 0, 1)
	if err := doc.ApplyUpdate(step2.payload); err != nil {
		h.t.Fatal(err)
	}
	reply, err := doc.EncodeStateAsUpdate(step1.payload)
	if err != nil {
		h.t.Fatal(err)
	}
	h.send(hpSync(address, 1, reply))
	h.expect(address, 8, 1)
	return doc
}

func (h *hpClient) edit(address string, doc *crdt.Doc, s string) {
	h.t.Helper()
	u := doc.Transact(func() { doc.GetText("t").Insert(doc.GetText("t").Len(), s) })
	h.send(hpSync(address, 2, u))
}

func TestHocuspocusHoldsMessagesUntilAuthThenAnswersInOrder(t *testing.T) {
	e := newEnv(t, envOptions{})
	h := e.dialHP()
	// As the provider does on open: Auth, then at once step 1 and awareness.
	h.send(hpAuth("doc", "any"))
	h.send(hpSync("doc", 0, crdt.NewDoc().EncodeStateVector()))
	h.send(hpMsg("doc", 1, func(en *crdt.Encoder) {
		var inner crdt.Encoder
		inner.WriteVarUint(1)
		inner.WriteVarUint(77)
		inner.WriteVarUint(1)
		inner.WriteVarString(`{"user":"ada"}`)
		en.WriteVarBytes(inner.Bytes())
	}))
	if in := h.next(true); in.typ != 2 || in.sub != 2 || in.text != "read-write" {
		t.Fatalf("first answer %+v, want Authenticated read-write", in)
	}
	h.expect("doc", 0, 0) // the server's step 1
	h.expect("doc", 0, 1) // the step 2 answering ours
	if in := h.next(true); in.typ != 1 {
		t.Fatalf("then %+v, want the awareness relay", in)
	}
	// An empty step 2 is acknowledged too: the provider counts it.
	h.send(hpSync("doc", 1, []byte{0, 0}))
	h.expect("doc", 8, 1)
	h.send([]byte{9})
	if in := h.next(false); !in.bare || in.typ != 10 {
		t.Fatalf("Ping answered with %+v, want a bare Pong", in)
	}
}

func TestHocuspocusSyncStatusOnlyOnceDurable(t *testing.T) {
	var gs *gatedStore
	e := newEnv(t, envOptions{wrap: func(s storage.Store) storage.Store {
		gs = &gatedStore{Store: s, entered: make(chan struct{}, 64)}
		return gs
	}})
	h := e.dialHP()
	doc := h.attach("doc", "")
	gs.shut()
	h.edit("doc", doc, "one ")
	select {
	case <-gs.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("no Append")
	}
	h.edit("doc", doc, "two ")
	h.send(hpSync("doc", 1, []byte{0, 0}))
	h.quiet(200 * time.Millisecond) // stuck on its way to disk: no echo, no SyncStatus
	gs.open()
	saved := 0
	for saved < 3 {
		in := h.next(false)
		switch {
		case in.typ == 8 && in.sub == 1:
			saved++
			if saved == 1 {
				if got, _ := e.storedDoc("doc"); got.GetText("t").String() == "" {
					t.Fatal("SyncStatus before the update was on disk")
				}
			}
		case in.typ == 0 && in.sub == 2: // the echo of each update
		default:
			t.Fatalf("unexpected %+v", in)
		}
	}
	h.quiet(200 * time.Millisecond) // exactly one SyncStatus per message
	if got, _ := e.storedDoc("doc"); got.GetText("t").String() != "one two " {
		t.Fatalf("stored %q", got.GetText("t").String())
	}
}

func TestHocuspocusMultiplexingAuthAndDetach(t *testing.T) {
	const admin = "hp-admin"
	e := newEnv(t, envOptions{adminKey: admin})
	a := e.dialHP()
	b := e.dialHP()
	docA := a.attach("shared", admin)
	b.attach("shared", admin)
	// A document refused on a's socket: its earlier messages are dropped.
	a.send(hpSync("secret", 2, crdt.NewDoc().Transact(func() {})))
	a.send(hpAuth("secret", "wrong"))
	if in := a.expect("secret", 2, 1); !strings.Contains(in.text, "token is not valid") {
		t.Fatalf("permission denied reason %q", in.text)
	}
	// Messages for it after the refusal are held again, not applied.
	a.send(hpSync("secret", 2, []byte{0, 0}))
	// The socket's other document still works, and b sees its edits.
	a.edit("shared", docA, "hello")
	for {
		in := a.next(false)
		if in.typ == 8 {
			break
		}
	}
	checkFor(t, 5*time.Second, func() error {
		for {
			select {
			case f := <-b.frames:
				if in, _ := decodeHPIn(f); in.typ == 0 && in.sub == 2 {
					return nil
				}
			default:
				return errors.New("b has not received the update")
			}
		}
	})
	if _, err := e.bolt.Load(context.Background(), "secret"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("refused document was created or written: %v", err)
	}

	// a's awareness on "shared", then a detaches "shared" only.
	var inner crdt.Encoder
	inner.WriteVarUint(1)
	inner.WriteVarUint(4242)
	inner.WriteVarUint(1)
	inner.WriteVarString(`{"user":"a"}`)
	a.send(hpMsg("shared", 1, func(en *crdt.Encoder) { en.WriteVarBytes(inner.Bytes()) }))
	waitAwareness := func(state string) {
		t.Helper()
		for {
			in := b.next(true)
			if in.typ == 1 && bytes.Contains(in.raw, []byte(state)) {
				return
			}
		}
	}
	waitAwareness(`{"user":"a"}`)
	docOther := a.attach("other", admin)
	a.send(hpMsg("shared", 7))
	waitAwareness("null") // b is told a's state is gone
	a.edit("other", docOther, "still working")
	for {
		if in := a.next(false); in.typ == 8 {
			if in.address != "other" {
				t.Fatalf("SyncStatus for %q", in.address)
			}
			break
		}
	}
}

func TestHocuspocusMalformedUpdateClosesOnlyThatDocument(t *testing.T) {
	e := newEnv(t, envOptions{})
	h := e.dialHP()
	h.attach("bad", "")
	good := h.attach("good", "")
	h.send(hpSync("bad", 2, []byte{1, 2, 3, 4, 5}))
	in := h.next(false)
	if in.address != "bad" || in.typ != 7 || !strings.Contains(in.text, "malformed") {
		t.Fatalf("got %+v %q, want CLOSE for bad with a reason", in, in.text)
	}
	h.edit("good", good, "fine")
	for {
		if in := h.next(false); in.typ == 8 {
			break
		}
	}
	if got, _ := e.storedDoc("bad"); got.GetText("t").String() != "" {
		t.Fatal("malformed update changed the document")
	}
}

func TestHocuspocusIdleRule(t *testing.T) {
	e := newEnv(t, envOptions{http: Config{Hocuspocus: qsync.HocuspocusConfig{PingAfter: 40 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}}})
	live := e.dialHP()
	dead := e.dialHP()
	live.attach("doc", "")
	dead.attach("doc", "")
	// live answers every Ping, as the provider does; dead never does.
	stop := time.After(1500 * time.Millisecond)
	pings := 0
	for done := false; !done; {
		select {
		case f := <-live.frames:
			if len(f) == 1 && f[0] == 9 {
				pings++
				live.send([]byte{10})
			}
		case ce := <-live.closed:
			t.Fatalf("a socket answering Pings was closed: %d %q", ce.Code, ce.Reason)
		case <-stop:
			done = true
		}
	}
	if pings < 3 {
		t.Fatalf("%d Pings in 1.5 s of silence", pings)
	}
	select {
	case ce := <-dead.closed:
		if int(ce.Code) != qsync.PingTimeout.Code() {
			t.Fatalf("silent socket closed with %d %q", ce.Code, ce.Reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("silent socket not closed")
	}
}

func TestHocuspocusMessagesBeforeAuthAreHeldThenApplied(t *testing.T) {
	e := newEnv(t, envOptions{http: Config{Hocuspocus: qsync.HocuspocusConfig{MaxPendingBytes: 4096}}})
	h := e.dialHP()
	doc := crdt.NewDoc()
	u := doc.Transact(func() { doc.GetText("t").Insert(0, "early") })
	// Step 1 and an update before the Auth (a provider whose token is a
	// slow promise): held, then handled in order once authenticated.
	h.send(hpSync("doc", 0, crdt.NewDoc().EncodeStateVector()))
	h.send(hpSync("doc", 2, u))
	h.quiet(100 * time.Millisecond)
	h.send(hpAuth("doc", ""))
	h.expect("doc", 2, 2)
	h.expect("doc", 0, 0)
	h.expect("doc", 0, 1)
	for {
		in := h.next(false)
		if in.typ == 8 {
			if in.sub != 1 {
				t.Fatalf("SyncStatus %d", in.sub)
			}
			break
		}
	}
	if got, _ := e.storedDoc("doc"); got.GetText("t").String() != "early" {
		t.Fatalf("stored %q", got.GetText("t").String())
	}

	// Past the limit of what may wait for an Auth, the socket is closed.
	big := make([]byte, 5000)
	h.send(hpSync("other", 2, big))
	select {
	case ce := <-h.closed:
		if int(ce.Code) != qsync.MalformedMessage.Code() || !strings.Contains(ce.Reason, "before authenticating") {
			t.Fatalf("closed with %d %q", ce.Code, ce.Reason)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("socket not closed")
	}
}

func TestHocuspocusReadOnlyScope(t *testing.T) {
	const admin = "hp-admin"
	e := newEnv(t, envOptions{adminKey: admin})
	ctx := context.Background()
	if err := e.store.CreateDoc(ctx, storage.DocMeta{ID: "doc"}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateShareToken(ctx, storage.ShareToken{ID: "00000000-0000-0000-0000-0000000000a1", DocID: "doc", Role: storage.RoleViewer}, "viewer-secret"); err != nil {
		t.Fatal(err)
	}
	w := e.dialHP()
	wdoc := w.attach("doc", admin)
	w.edit("doc", wdoc, "hello world")
	w.expect("doc", 0, 2) // echo
	w.expect("doc", 8, 1)
	del := wdoc.Transact(func() { wdoc.GetText("t").Delete(0, 6) }) // deletions: the viewer's step 2 will carry them
	w.send(hpSync("doc", 2, del))
	w.expect("doc", 0, 2)
	w.expect("doc", 8, 1)

	v := e.dialHP()
	v.send(hpAuth("doc", "viewer-secret"))
	vdoc := crdt.NewDoc()
	v.send(hpSync("doc", 0, vdoc.EncodeStateVector()))
	if in := v.expect("doc", 2, 2); in.text != "readonly" {
		t.Fatalf("scope %q", in.text)
	}
	step1 := v.expect("doc", 0, 0)
	step2 := v.expect("doc", 0, 1)
	if err := vdoc.ApplyUpdate(step2.payload); err != nil {
		t.Fatal(err)
	}
	if got := vdoc.GetText("t").String(); got != "world" {
		t.Fatalf("viewer has %q", got)
	}
	// Its step 2 holds the document's deletions but nothing new: saved.
	reply, err := vdoc.EncodeStateAsUpdate(step1.payload)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(reply, []byte{0, 0}) {
		t.Fatal("test needs a step 2 that carries deletions")
	}
	v.send(hpSync("doc", 1, reply))
	v.expect("doc", 8, 1)
	// An edit is refused, and so is a step 2 carrying it; the document is unchanged.
	v.edit("doc", vdoc, "!")
	v.expect("doc", 8, 0)
	all, _ := vdoc.EncodeStateAsUpdate(nil)
	v.send(hpSync("doc", 1, all))
	v.expect("doc", 8, 0)
	// A deletion alone is a change too, as an update or inside a step 2.
	delOnly := vdoc.Transact(func() { vdoc.GetText("t").Delete(0, 1) })
	v.send(hpSync("doc", 2, delOnly))
	v.expect("doc", 8, 0)
	v.send(hpSync("doc", 1, delOnly))
	v.expect("doc", 8, 0)
	v.quiet(100 * time.Millisecond)
	if got, _ := e.storedDoc("doc"); got.GetText("t").String() != "world" {
		t.Fatalf("stored %q after the viewer's writes", got.GetText("t").String())
	}
}
