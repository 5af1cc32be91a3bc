package sync

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/quire/quire/crdt"
)

// golden.json holds frames written by the real Hocuspocus code (see
// testdata/hocuspocus/gen.mjs): what @hocuspocus/provider 4.8.0 sends and
// what @hocuspocus/server 4.7.0 answers.
type hpGolden struct {
	Client []struct {
		Name    string `json:"name"`
		Hex     string `json:"hex"`
		Address string `json:"address"`
		Type    uint64 `json:"type"`
		Bare    bool   `json:"bare"`
		Sync    *int   `json:"sync"`
		Token   string `json:"token"`
		Version string `json:"version"`
		Payload string `json:"payload"`
	} `json:"client"`
	Server []struct {
		Name        string `json:"name"`
		Hex         string `json:"hex"`
		Address     string `json:"address"`
		ReadOnly    bool   `json:"readOnly"`
		Reason      string `json:"reason"`
		Saved       bool   `json:"saved"`
		Payload     string `json:"payload"`
		StateVector string `json:"stateVector"`
		Awareness   []struct {
			ClientID uint64 `json:"clientID"`
			Clock    uint64 `json:"clock"`
			State    string `json:"state"`
		} `json:"awareness"`
	} `json:"server"`
}

func loadHPGolden(t *testing.T) hpGolden {
	t.Helper()
	b, err := os.ReadFile("testdata/hocuspocus/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g hpGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Client) == 0 || len(g.Server) == 0 {
		t.Fatal("golden.json has no frames")
	}
	return g
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHocuspocusDecodesProviderFrames(t *testing.T) {
	for _, c := range loadHPGolden(t).Client {
		t.Run(c.Name, func(t *testing.T) {
			frame := mustHex(t, c.Hex)
			if c.Bare {
				typ, ok := hpBare(frame)
				if !ok || uint64(typ) != c.Type {
					t.Fatalf("bare frame %x: got type %d ok=%v, want %d", frame, typ, ok, c.Type)
				}
				return
			}
			if _, ok := hpBare(frame); ok {
				t.Fatalf("addressed frame %x taken for a bare one", frame)
			}
			f, err := decodeHPFrame(frame)
			if err != nil {
				t.Fatal(err)
			}
			if f.address != c.Address || f.typ != c.Type {
				t.Fatalf("got address %q type %d, want %q %d", f.address, f.typ, c.Address, c.Type)
			}
			if f.docName() != "notes/äbc" {
				t.Fatalf("document name %q", f.docName())
			}
			switch f.typ {
			case hpAuth:
				token, version, err := decodeHPAuthToken(f.body)
				if err != nil || token != c.Token || version != c.Version {
					t.Fatalf("auth: %q %q %v, want %q %q", token, version, err, c.Token, c.Version)
				}
			case hpStateless:
				p, err := decodeHPStateless(f.body)
				if err != nil || p != c.Payload {
					t.Fatalf("stateless: %q %v, want %q", p, err, c.Payload)
				}
			case hpSync, hpAwareness:
				// What follows the address is a y-protocols message the
				// room reads unchanged.
				in, err := decodeInbound(frame[f.typeAt:])
				if err != nil {
					t.Fatal(err)
				}
				want := map[int]inboundKind{0: inSyncStep1, 1: inUpdate, 2: inUpdate}
				if f.typ == hpAwareness {
					if in.kind != inAwareness || len(in.awareness) != 1 || in.awareness[0].clientID != 42 {
						t.Fatalf("awareness: %+v", in)
					}
				} else if in.kind != want[*c.Sync] || in.step2 != (*c.Sync == 1) {
					t.Fatalf("sync sub-type %d decoded as %+v", *c.Sync, in)
				}
			case hpClose:
				if len(f.body) != 0 {
					t.Fatalf("close body %x", f.body)
				}
			default:
				t.Fatalf("unexpected type %d", f.typ)
			}
		})
	}
}

func TestHocuspocusEncodesServerFrames(t *testing.T) {
	for _, s := range loadHPGolden(t).Server {
		t.Run(s.Name, func(t *testing.T) {
			want := mustHex(t, s.Hex)
			var got []byte
			switch s.Name {
			case "authenticated read-write", "authenticated readonly":
				got = encodeHPAuthenticated(s.Address, s.ReadOnly)
			case "permission denied":
				got = encodeHPPermissionDenied(s.Address, s.Reason)
			case "sync status saved", "sync status refused":
				got = hpAddressed(s.Address, encodeSyncStatus(s.Saved))
			case "stateless":
				got = encodeHPStateless(s.Address, s.Payload)
			case "close":
				got = encodeHPClose(s.Address, s.Reason)
			case "sync step 1":
				got = hpAddressed(s.Address, encodeSyncStep1(mustHex(t, s.StateVector)))
			case "awareness":
				var entries []awarenessEntry
				for _, a := range s.Awareness {
					entries = append(entries, awarenessEntry{clientID: a.ClientID, clock: a.Clock, state: a.State})
				}
				got = hpAddressed(s.Address, encodeAwareness(entries))
			default:
				t.Fatalf("no encoder for golden %q", s.Name)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got  %x\nwant %x", got, want)
			}
		})
	}
}

func TestHocuspocusRejectsMalformedFrames(t *testing.T) {
	long := crdt.NewEncoderSize(8)
	long.WriteVarUint(1000) // address length past the end
	for name, frame := range map[string][]byte{
		"empty":           {},
		"address overrun": long.Bytes(),
		"no type":         {1, 'a'},
		"type overrun":    {1, 'a', 0x80},
	} {
		if _, err := decodeHPFrame(frame); err == nil {
			t.Errorf("%s: %x decoded", name, frame)
		}
	}
	for name, body := range map[string][]byte{
		"no sub-type":       {},
		"not a token":       {hpAuthAuthenticated, 0},
		"token overrun":     {hpAuthToken, 5, 'a'},
		"bad version bytes": {hpAuthToken, 1, 'a', 9},
	} {
		if _, _, err := decodeHPAuthToken(body); err == nil {
			t.Errorf("auth %s: %x decoded", name, body)
		}
	}
	if _, ok := hpBare([]byte{hpSync}); ok {
		t.Error("a one-byte frame other than Ping/Pong is not bare")
	}
}
