package crdt

// Real editing traces (josephg/editing-traces, in shared/traces beside the
// repository) replayed in Go and in Yjs: same content, same bytes.

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"unicode/utf16"
)

// tracePatch is [position, deleted count, inserted text]; positions and
// counts are Unicode code points.
type tracePatch struct {
	Pos int
	Del int
	Ins string
}

func (p *tracePatch) UnmarshalJSON(b []byte) error {
	var raw [3]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if err := json.Unmarshal(raw[0], &p.Pos); err != nil {
		return err
	}
	if err := json.Unmarshal(raw[1], &p.Del); err != nil {
		return err
	}
	return json.Unmarshal(raw[2], &p.Ins)
}

type traceTxn struct {
	Parents     []int        `json:"parents"`
	NumChildren int          `json:"numChildren"`
	Agent       int          `json:"agent"`
	Patches     []tracePatch `json:"patches"`
}

type editTrace struct {
	Kind         string     `json:"kind"`
	StartContent string     `json:"startContent"`
	EndContent   string     `json:"endContent"`
	NumAgents    int        `json:"numAgents"`
	Txns         []traceTxn `json:"txns"`
}

// tracesDir finds shared/traces beside the repository root (or beside its
// parent, for git worktrees one level down). QUIRE_TRACES overrides it.
func tracesDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("QUIRE_TRACES"); d != "" {
		return d
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, up := range []string{"..", filepath.Join("..", "..")} {
		d := filepath.Join(repo, up, "shared", "traces")
		if _, err := os.Stat(d); err == nil {
			return d
		}
	}
	t.Fatalf("editing traces not found: expected shared/traces beside the repository (%s) or set QUIRE_TRACES", filepath.Join(repo, "..", "shared", "traces"))
	return ""
}

var (
	traceCacheMu sync.Mutex
	traceCache   = map[string]*editTrace{}
)

func loadEditTrace(t testing.TB, name string) *editTrace {
	t.Helper()
	traceCacheMu.Lock()
	defer traceCacheMu.Unlock()
	if tr, ok := traceCache[name]; ok {
		return tr
	}
	path := filepath.Join(tracesDir(t), name+".json.gz")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("trace %s: %v", name, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("trace %s: %v", path, err)
	}
	tr := new(editTrace)
	if err := json.NewDecoder(zr).Decode(tr); err != nil {
		t.Fatalf("trace %s: %v", path, err)
	}
	traceCache[name] = tr
	return tr
}

func (tr *editTrace) hasAstral() bool {
	astral := func(s string) bool {
		for _, r := range s {
			if r > 0xffff {
				return true
			}
		}
		return false
	}
	if astral(tr.StartContent) {
		return true
	}
	for _, x := range tr.Txns {
		for _, p := range x.Patches {
			if astral(p.Ins) {
				return true
			}
		}
	}
	return false
}

// utf16Range converts a code-point range of s to UTF-16 units.
func utf16Range(s string, pos, n int) (int, int) {
	from, cp := 0, 0
	rs := []rune(s)
	for cp < pos {
		from += utf16.RuneLen(rs[cp])
		cp++
	}
	to := from
	for ; cp < pos+n; cp++ {
		to += utf16.RuneLen(rs[cp])
	}
	return from, to - from
}

// applyTracePatch applies one patch to text; astral says whether positions
// need converting from code points to UTF-16.
func applyTracePatch(text *Text, p tracePatch, astral bool) {
	pos, del := p.Pos, p.Del
	if astral {
		pos, del = utf16Range(text.String(), p.Pos, p.Del)
	}
	if del > 0 {
		text.Delete(pos, del)
	}
	if p.Ins != "" {
		text.Insert(pos, p.Ins)
	}
}

// replaySequentialTrace makes one transaction per patch, as traces.mjs does.
func replaySequentialTrace(tr *editTrace, client uint64) *Doc {
	d := NewDoc(WithClientID(client))
	text := d.GetText("text")
	astral := tr.hasAstral()
	if tr.StartContent != "" {
		d.Transact(func() { text.Insert(0, tr.StartContent) })
	}
	for _, x := range tr.Txns {
		for _, p := range x.Patches {
			d.Transact(func() { applyTracePatch(text, p, astral) })
		}
	}
	return d
}

// replayConcurrentTrace replays a concurrent trace with one Doc per agent,
// exactly as traces.mjs does: before an agent's transaction its doc gets,
// in trace order, every transaction of the parents' ancestry it lacks.
func replayConcurrentTrace(tr *editTrace, clients []uint64) ([]*Doc, error) {
	astral := tr.hasAstral()
	docs := make([]*Doc, tr.NumAgents)
	seen := make([][]bool, tr.NumAgents)
	for a := range docs {
		docs[a] = NewDoc(WithClientID(clients[a]))
		docs[a].GetText("text")
		seen[a] = make([]bool, len(tr.Txns))
	}
	updates := make([][]byte, len(tr.Txns))
	catchUp := func(a int, roots []int) error {
		var missing []int
		stack := append([]int(nil), roots...)
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[a][x] {
				continue
			}
			seen[a][x] = true
			missing = append(missing, x)
			stack = append(stack, tr.Txns[x].Parents...)
		}
		sort.Ints(missing)
		for _, x := range missing {
			if tr.Txns[x].Agent == a {
				return fmt.Errorf("agent %d lacks its own txn %d", a, x)
			}
			if err := docs[a].ApplyUpdate(updates[x]); err != nil {
				return fmt.Errorf("agent %d applying txn %d: %w", a, x, err)
			}
		}
		return nil
	}
	for i, x := range tr.Txns {
		a := x.Agent
		if err := catchUp(a, x.Parents); err != nil {
			return nil, err
		}
		text := docs[a].GetText("text")
		updates[i] = docs[a].Transact(func() {
			for _, p := range x.Patches {
				applyTracePatch(text, p, astral)
			}
		})
		seen[a][i] = true
	}
	all := make([]int, len(tr.Txns))
	for i := range all {
		all[i] = i
	}
	for a := range docs {
		if err := catchUp(a, all); err != nil {
			return nil, err
		}
	}
	return docs, nil
}

type yjsTraceReplica struct {
	Content string `json:"content"`
	SV      string `json:"sv"`
	State   string `json:"state"`
}

// yjsTrace runs traces.mjs and returns what Yjs made of the trace.
func yjsTrace(t *testing.T, args ...string) []yjsTraceReplica {
	t.Helper()
	out := filepath.Join(t.TempDir(), "yjs.json")
	runNode(t, append([]string{"traces.mjs"}, append(args, "--traces", tracesDir(t), "--out", out)...)...)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		yjsTraceReplica
		Replicas []yjsTraceReplica `json:"replicas"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Replicas != nil {
		return res.Replicas
	}
	return []yjsTraceReplica{res.yjsTraceReplica}
}

// yjsDecodeText applies update to a fresh Y.Doc and returns its Text "text".
func yjsDecodeText(t *testing.T, update []byte) string {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json")
	req, _ := json.Marshal(map[string]any{
		"gc":       true,
		"roots":    []oracleRoot{{Name: "text", Type: "Text"}},
		"replicas": []map[string]any{{"updates": []string{base64.StdEncoding.EncodeToString(update)}}},
	})
	if err := os.WriteFile(in, req, 0o600); err != nil {
		t.Fatal(err)
	}
	runNode(t, "apply.mjs", in, out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Replicas []struct {
			JSON map[string]string `json:"json"`
		} `json:"replicas"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	return res.Replicas[0].JSON["text"]
}

func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return fmt.Sprintf("first difference at byte %d of %d/%d: want %q, got %q", i, len(a), len(b), a[i:min(len(a), i+40)], b[i:min(len(b), i+40)])
}

func TestTraceAutomergePaper(t *testing.T) {
	tr := loadEditTrace(t, "automerge-paper")
	const client = 1
	d := replaySequentialTrace(tr, client)
	if got := d.GetText("text").String(); got != tr.EndContent {
		t.Fatalf("Go replay does not give endContent: %s", firstDiff(tr.EndContent, got))
	}
	state, err := d.EncodeStateAsUpdate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := yjsDecodeText(t, state); got != tr.EndContent {
		t.Errorf("Yjs decodes Go's document to other text: %s", firstDiff(tr.EndContent, got))
	}
	yjs := yjsTrace(t, "sequential", "--name", "automerge-paper", "--client", "1")[0]
	if want := mustB64(t, yjs.SV); !bytes.Equal(d.EncodeStateVector(), want) {
		t.Errorf("%s", byteDiff(t, "state vector", want, d.EncodeStateVector()))
	}
	if want := mustB64(t, yjs.State); !bytes.Equal(state, want) {
		t.Errorf("automerge-paper replayed with client %d: %s", client, byteDiff(t, "encodeStateAsUpdate", want, state))
	}
	t.Logf("automerge-paper: %d patches, %d chars, update %d bytes", len(tr.Txns), len(tr.EndContent), len(state))
}

func TestTraceFriendsForever(t *testing.T) {
	tr := loadEditTrace(t, "friendsforever")
	if tr.Kind != "concurrent" || tr.NumAgents != 2 {
		t.Fatalf("friendsforever: kind %q with %d agents, want a concurrent trace of 2", tr.Kind, tr.NumAgents)
	}
	clients := []uint64{1, 2}
	docs, err := replayConcurrentTrace(tr, clients)
	if err != nil {
		t.Fatal(err)
	}
	yjs := yjsTrace(t, "concurrent", "--name", "friendsforever", "--clients", "1,2")
	for a, d := range docs {
		if got := d.GetText("text").String(); got != tr.EndContent {
			t.Errorf("agent %d: Go content differs from endContent: %s", a, firstDiff(tr.EndContent, got))
		}
		if want := mustB64(t, yjs[a].SV); !bytes.Equal(d.EncodeStateVector(), want) {
			t.Errorf("agent %d: %s", a, byteDiff(t, "state vector", want, d.EncodeStateVector()))
		}
		state, err := d.EncodeStateAsUpdate(nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := mustB64(t, yjs[a].State); !bytes.Equal(state, want) {
			t.Errorf("agent %d: %s", a, byteDiff(t, "encodeStateAsUpdate", want, state))
		}
	}
}
