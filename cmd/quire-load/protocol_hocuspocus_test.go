package main

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// The server frames written by the real @hocuspocus/server 4.7.0 (see
// sync/testdata/hocuspocus/gen.mjs) parse as the load tool needs them.
func TestHocuspocusParsesRealServerFrames(t *testing.T) {
	b, err := os.ReadFile("../../sync/testdata/hocuspocus/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Server []struct {
			Name, Hex, Address, Reason string
		} `json:"server"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	p := hocuspocus{token: "t"}
	want := map[string]msgKind{
		"authenticated read-write": msgOther, "authenticated readonly": msgOther,
		"permission denied": msgDenied, "sync status saved": msgOther, "stateless": msgOther,
		"close": msgDenied, "sync step 1": msgOther, "awareness": msgOther,
	}
	for _, f := range g.Server {
		if f.Address != "notes/äbc" {
			continue // a session address: not what the tool attaches
		}
		msg, _ := hex.DecodeString(f.Hex)
		in, err := p.parse("notes/äbc", msg)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if k, ok := want[f.Name]; !ok || in.kind != k {
			t.Fatalf("%s: kind %d, want %d", f.Name, in.kind, k)
		}
		if f.Name == "permission denied" && in.text != f.Reason {
			t.Fatalf("reason %q", in.text)
		}
		if f.Name == "sync step 1" {
			// Answered with an addressed empty step 2.
			if !bytes.Equal(in.reply, append([]byte{10}, append([]byte("notes/äbc"), 0, 1, 2, 0, 0)...)) {
				t.Fatalf("step 1 reply %x", in.reply)
			}
		}
	}
	if _, err := p.parse("other", mustDecodeHex("0a6e6f7465732fc3a462630801")); err == nil {
		t.Fatal("a message for another document was accepted")
	}
	if in, err := p.parse("x", []byte{hpPing}); err != nil || !bytes.Equal(in.reply, []byte{hpPong}) {
		t.Fatalf("Ping: %+v %v", in, err)
	}
	hello := p.hello("notes/äbc")
	if len(hello) != 2 || hello[0][len("notes/äbc")+1] != hpAuth || hello[1][len("notes/äbc")+1] != hpSync {
		t.Fatalf("hello %x", hello)
	}
	upd := p.appendUpdate(nil, "d", []byte{0, 0})
	if !bytes.Equal(upd, []byte{1, 'd', 0, 2, 2, 0, 0}) {
		t.Fatalf("update frame %x", upd)
	}
}

func mustDecodeHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
