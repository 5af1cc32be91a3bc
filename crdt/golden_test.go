package crdt

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"testing"
)

// docScenario is one scenario of testdata/golden/doc_golden.json, made by
// real Yjs (testdata/golden/doc_gen.mjs).
type docScenario struct {
	Name    string            `json:"name"`
	GC      bool              `json:"gc"`
	Clients []uint64          `json:"clients"`
	Types   map[string]string `json:"types"`
	Steps   []struct {
		Replica int    `json:"replica"`
		Op      string `json:"op"`
		Args    []any  `json:"args"`
		Update  string `json:"update"`
		Applied string `json:"applied"`
	} `json:"steps"`
	Order            []int            `json:"order"`
	AfterEach        []string         `json:"afterEach"`
	ReplicaStates    []string         `json:"replicaStates"`
	State            string           `json:"state"`
	StateVector      string           `json:"stateVector"`
	DiffAgainstFirst string           `json:"diffAgainstFirst"`
	JSON             map[string]any   `json:"json"`
	Deltas           map[string][]any `json:"deltas"`
}

func loadDocGolden(t *testing.T, file string) []docScenario {
	t.Helper()
	raw, err := os.ReadFile("testdata/golden/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var out []docScenario
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func num(v any) int { return int(v.(float64)) }

func optAttrs(args []any, i int) (map[string]any, bool) {
	if i >= len(args) || args[i] == nil {
		return nil, false
	}
	return args[i].(map[string]any), true
}

// jsValue converts a JSON-decoded golden argument to the Go value Yjs saw.
func jsValue(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsValue(e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = jsValue(e)
		}
		return out
	}
	return v
}

func applyOp(t *testing.T, d *Doc, op string, args []any) {
	t.Helper()
	s := func(i int) string { return args[i].(string) }
	switch op {
	case "textInsert":
		if a, ok := optAttrs(args, 3); ok {
			d.GetText(s(0)).InsertFormatted(num(args[1]), s(2), jsValue(a).(map[string]any))
		} else {
			d.GetText(s(0)).Insert(num(args[1]), s(2))
		}
	case "textDelete":
		d.GetText(s(0)).Delete(num(args[1]), num(args[2]))
	case "textFormat":
		d.GetText(s(0)).Format(num(args[1]), num(args[2]), jsValue(args[3]).(map[string]any))
	case "textEmbed":
		a, _ := optAttrs(args, 3)
		d.GetText(s(0)).InsertEmbed(num(args[1]), jsValue(args[2]), a)
	case "mapSet":
		v := jsValue(args[2])
		if m, ok := v.(map[string]any); ok && isUint8ArrayJSON(m) {
			v = uint8ArrayOf(m)
		}
		if err := d.GetMap(s(0)).Set(s(1), v); err != nil {
			t.Fatal(err)
		}
	case "mapDelete":
		d.GetMap(s(0)).Delete(s(1))
	case "mapSetMap":
		d.GetMap(s(0)).SetMap(s(1))
	case "mapSetText":
		d.GetMap(s(0)).SetText(s(1))
	case "arrayInsert":
		vals := jsValue(args[2]).([]any)
		for i, v := range vals {
			if m, ok := v.(map[string]any); ok && isUint8ArrayJSON(m) {
				vals[i] = uint8ArrayOf(m)
			}
		}
		if err := d.GetArray(s(0)).Insert(num(args[1]), vals...); err != nil {
			t.Fatal(err)
		}
	case "arrayDelete":
		if err := d.GetArray(s(0)).Delete(num(args[1]), num(args[2])); err != nil {
			t.Fatal(err)
		}
	case "xmlInsertElement", "xmlInsertText":
		f := d.GetXmlFragment(s(0))
		var err error
		if num(args[1]) < 0 {
			if op == "xmlInsertElement" {
				_, err = f.InsertElement(num(args[2]), s(3))
			} else {
				_, err = f.InsertText(num(args[2]))
			}
		} else {
			parent := f.Children()[num(args[1])].(*XmlElement)
			if op == "xmlInsertElement" {
				_, err = parent.InsertElement(num(args[2]), s(3))
			} else {
				_, err = parent.InsertText(num(args[2]))
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	case "xmlSetAttr":
		el := d.GetXmlFragment(s(0)).Children()[num(args[1])].(*XmlElement)
		if err := el.SetAttribute(s(2), jsValue(args[3])); err != nil {
			t.Fatal(err)
		}
	case "xmlTextInsert", "xmlTextFormat":
		el := d.GetXmlFragment(s(0)).Children()[num(args[1])].(*XmlElement)
		xt := el.Children()[num(args[2])].(*XmlText)
		if op == "xmlTextFormat" {
			xt.Format(num(args[3]), num(args[4]), jsValue(args[5]).(map[string]any))
		} else if a, ok := optAttrs(args, 5); ok {
			xt.InsertFormatted(num(args[3]), s(4), jsValue(a).(map[string]any))
		} else {
			xt.Insert(num(args[3]), s(4))
		}
	default:
		t.Fatalf("unknown op %s", op)
	}
}

// JSON.stringify turns a Uint8Array into {"0":..,"1":..}.
func isUint8ArrayJSON(m map[string]any) bool {
	if len(m) == 0 {
		return false
	}
	for i := range len(m) {
		if _, ok := m[itoa(i)]; !ok {
			return false
		}
	}
	return true
}

func uint8ArrayOf(m map[string]any) []byte {
	b := make([]byte, len(m))
	for i := range b {
		b[i] = byte(m[itoa(i)].(int64))
	}
	return b
}

func itoa(i int) string { return string(rune('0' + i)) }

// normJSON round-trips v through encoding/json so Go and JS values compare.
func normJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGoldenScenarios(t *testing.T) {
	testScenarios(t, loadDocGolden(t, "doc_golden.json"))
}

// TestRandomScenarios replays random edits (rich text with formats and
// embeds, maps, arrays, concurrent replicas) made by Yjs in
// testdata/golden/random_gen.mjs.
func TestRandomScenarios(t *testing.T) {
	testScenarios(t, loadDocGolden(t, "random_golden.json"))
}

func testScenarios(t *testing.T, scenarios []docScenario) {
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			// 1. Replay the local operations: each must produce Yjs' update.
			docs := make([]*Doc, len(sc.Clients))
			for i, c := range sc.Clients {
				docs[i] = NewDoc(WithClientID(c), WithGC(sc.GC))
			}
			for i, st := range sc.Steps {
				d := docs[st.Replica]
				if st.Op == "sync" {
					other := docs[num(st.Args[0])]
					u, err := other.EncodeStateAsUpdate(d.EncodeStateVector())
					if err != nil {
						t.Fatal(err)
					}
					if got := hex.EncodeToString(u); got != st.Applied {
						t.Errorf("step %d sync: update\n got %s\nwant %s", i, got, st.Applied)
					}
					if err := d.ApplyUpdate(mustHex(t, st.Applied)); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					continue
				}
				u := d.Transact(func() { applyOp(t, d, st.Op, st.Args) })
				if got := hex.EncodeToString(u); got != st.Update {
					t.Errorf("step %d %s %v: update\n got %s\nwant %s", i, st.Op, st.Args, got, st.Update)
				}
			}
			for i, d := range docs {
				u, _ := d.EncodeStateAsUpdate(nil)
				if got := hex.EncodeToString(u); got != sc.ReplicaStates[i] {
					t.Errorf("replica %d state\n got %s\nwant %s", i, got, sc.ReplicaStates[i])
				}
			}
			// 2. Deliver Yjs' updates to a fresh doc in the recorded order.
			var updates [][]byte
			for _, st := range sc.Steps {
				if st.Update != "" {
					updates = append(updates, mustHex(t, st.Update))
				}
			}
			fresh := NewDoc(WithClientID(999), WithGC(sc.GC))
			for name, kind := range sc.Types {
				switch kind {
				case "text":
					fresh.GetText(name)
				case "map":
					fresh.GetMap(name)
				case "array":
					fresh.GetArray(name)
				case "xml":
					fresh.GetXmlFragment(name)
				}
			}
			for k, i := range sc.Order {
				if err := fresh.ApplyUpdate(updates[i]); err != nil {
					t.Fatalf("apply %d: %v", i, err)
				}
				u, _ := fresh.EncodeStateAsUpdate(nil)
				if got := hex.EncodeToString(u); got != sc.AfterEach[k] {
					t.Errorf("after applying update %d (%d-th)\n got %s\nwant %s", i, k, got, sc.AfterEach[k])
				}
			}
			if fresh.HasPending() {
				t.Error("pending after all updates")
			}
			if got := hex.EncodeToString(fresh.EncodeStateVector()); got != sc.StateVector {
				t.Errorf("state vector %s, want %s", got, sc.StateVector)
			}
			diff, err := fresh.EncodeStateAsUpdate(docs[0].EncodeStateVector())
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(diff); got != sc.DiffAgainstFirst {
				t.Errorf("diff against replica 0\n got %s\nwant %s", got, sc.DiffAgainstFirst)
			}
			if got, want := normJSON(t, fresh.ToJSON()), normJSON(t, sc.JSON); !reflect.DeepEqual(got, want) {
				t.Errorf("toJSON\n got %v\nwant %v", got, want)
			}
			for name, want := range sc.Deltas {
				if got := normJSON(t, fresh.GetText(name).Delta()); !reflect.DeepEqual(got, normJSON(t, want)) {
					t.Errorf("delta of %s\n got %v\nwant %v", name, got, want)
				}
			}
		})
	}
}

func TestArrayGet(t *testing.T) {
	d := NewDoc(WithClientID(1))
	a := d.GetArray("a")
	if err := a.Push(int64(1), "two", []byte{3}); err != nil {
		t.Fatal(err)
	}
	if err := a.Insert(1, true, nil); err != nil {
		t.Fatal(err)
	}
	m, err := a.InsertMap(5)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Set("k", "v"); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(0, 1); err != nil {
		t.Fatal(err)
	}
	all := a.ToSlice()
	if len(all) != a.Len() || a.Len() != 5 {
		t.Fatalf("len %d, values %v", a.Len(), all)
	}
	for i, want := range all {
		got, ok := a.Get(i)
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("Get(%d) = %v, want %v", i, got, want)
		}
	}
	if _, ok := a.Get(5); ok {
		t.Error("Get past the end succeeded")
	}
	if err := a.Insert(7, 1); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("insert past the end: %v", err)
	}
	if err := a.Push(struct{}{}); err == nil {
		t.Error("pushing a struct succeeded")
	}
	if got := normJSON(t, a.ToJSON()); !reflect.DeepEqual(got, normJSON(t, []any{true, nil, "two", []byte{3}, map[string]any{"k": "v"}})) {
		t.Errorf("ToJSON = %v", got)
	}
}
