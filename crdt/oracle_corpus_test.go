package crdt

// Loading the Yjs oracle corpus (testdata/oracle) and running its Node
// scripts; shared by the oracle, trace and raw-update tests.

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

const oracleDir = "testdata/oracle"

type oracleRoot struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type oracleCheck struct {
	After   int                        `json:"after"`
	JSON    map[string]json.RawMessage `json:"json"`
	Deltas  map[string]json.RawMessage `json:"deltas"`
	SV      string                     `json:"sv"`
	State   string                     `json:"state"`
	Pending bool                       `json:"pending"`
}

type oracleReplica struct {
	Client uint64        `json:"client"`
	Steps  []int         `json:"steps"`
	Checks []oracleCheck `json:"checks"`
}

type oracleRawInput struct {
	Update *int `json:"update"`
	Merge  *int `json:"merge"`
}

type oracleRaw struct {
	Op     string          `json:"op"`
	Inputs []int           `json:"inputs"`
	Input  *oracleRawInput `json:"input"`
	SV     string          `json:"sv"`
	Out    string          `json:"out"`
}

type oracleSession struct {
	ID        string          `json:"id"`
	Kind      string          `json:"kind"`
	GC        bool            `json:"gc"`
	Converged bool            `json:"converged"`
	Roots     []oracleRoot    `json:"roots"`
	Updates   []string        `json:"updates"`
	Replicas  []oracleReplica `json:"replicas"`
	Raw       []oracleRaw     `json:"raw"`

	updates [][]byte // decoded Updates
}

func mustB64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("corpus holds bad base64: %v", err)
	}
	return b
}

// readSessions reads every session from the *.jsonl.gz files in dir.
func readSessions(t testing.TB, dir string) []*oracleSession {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl.gz"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no oracle sessions (*.jsonl.gz) in %s (err %v)", dir, err)
	}
	sort.Strings(files)
	var out []*oracleSession
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(fh)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		dec := json.NewDecoder(zr)
		for {
			s := new(oracleSession)
			if err := dec.Decode(s); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for _, u := range s.Updates {
				s.updates = append(s.updates, mustB64(t, u))
			}
			out = append(out, s)
		}
		fh.Close()
	}
	return out
}

// nodeOracle returns the path of the oracle folder, failing the test with
// what to do when Node or the npm packages are missing.
func nodeOracle(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is required for this test: %v", err)
	}
	if _, err := os.Stat(filepath.Join(oracleDir, "node_modules", "yjs", "package.json")); err != nil {
		t.Fatalf("Yjs is not installed: run `npm ci` in crdt/%s (%v)", oracleDir, err)
	}
	abs, err := filepath.Abs(oracleDir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// runNode runs a script of the oracle folder and returns its stdout.
func runNode(t testing.TB, args ...string) []byte {
	t.Helper()
	dir := nodeOracle(t)
	cmd := exec.Command("node", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// canonicalJSON marshals v into JSON with sorted keys and numbers as JSON
// numbers, with []byte as {"$bin": base64} (the corpus' shape).
func canonicalJSON(v any) (string, error) {
	b, err := json.Marshal(binToMarker(v))
	if err != nil {
		return "", err
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return "", err
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(normalizeNumbers(generic)); err != nil {
		return "", err
	}
	return strings.TrimSuffix(out.String(), "\n"), nil
}

// jsonDiff shows where two canonical JSON texts first differ, with some
// context, so large documents stay readable in failure messages.
func jsonDiff(want, got string) string {
	if len(want) <= 400 && len(got) <= 400 {
		return fmt.Sprintf("\n  Yjs %s\n  Go  %s", want, got)
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	window := func(s string) string {
		lo, hi := max(0, i-150), min(len(s), i+150)
		for lo > 0 && !utf8.RuneStart(s[lo]) {
			lo--
		}
		for hi < len(s) && !utf8.RuneStart(s[hi]) {
			hi++
		}
		return "…" + s[lo:hi] + "…"
	}
	return fmt.Sprintf(" (first difference at byte %d of %d/%d)\n  Yjs %s\n  Go  %s", i, len(want), len(got), window(want), window(got))
}

func binToMarker(v any) any {
	switch x := v.(type) {
	case []byte:
		return map[string]any{"$bin": base64.StdEncoding.EncodeToString(x)}
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = binToMarker(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = binToMarker(e)
		}
		return a
	}
	return v
}

// normalizeNumbers makes 3, 3.0 and 3e0 compare equal (JS has one number type).
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return string(x)
		}
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	}
	return v
}

// byteDiff explains where two encodings first differ, with Yjs' decoding
// of both when Node is available.
func byteDiff(t testing.TB, what string, want, got []byte) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	lo := max(0, i-16)
	ctx := func(b []byte) string {
		hi := min(len(b), i+16)
		if lo >= hi {
			return "(end)"
		}
		return hex.EncodeToString(b[lo:i]) + "|" + hex.EncodeToString(b[i:hi])
	}
	msg := fmt.Sprintf("%s differ at byte %d (lengths: Yjs %d, Go %d)\n  Yjs %s\n  Go  %s", what, i, len(want), len(got), ctx(want), ctx(got))
	if what == "encodeStateAsUpdate" || strings.HasPrefix(what, "update") {
		msg += "\n" + describeUpdates(t, want, got)
	}
	return msg
}

var (
	describeMu    sync.Mutex
	describeCalls int
)

// describeLimit bounds the Node calls a failing run makes (each costs a
// process start); later mismatches report byte offsets only.
const describeLimit = 10

func describeUpdates(t testing.TB, want, got []byte) string {
	describeMu.Lock()
	defer describeMu.Unlock()
	if describeCalls >= describeLimit {
		return "(decoded descriptions are shown for the first mismatches only)"
	}
	describeCalls++
	if _, err := exec.LookPath("node"); err != nil {
		return "(install node and run npm ci in crdt/testdata/oracle for a decoded description)"
	}
	dir, err := os.MkdirTemp("", "quire-describe")
	if err != nil {
		return err.Error()
	}
	defer os.RemoveAll(dir)
	a, b := filepath.Join(dir, "want.bin"), filepath.Join(dir, "got.bin")
	if err := os.WriteFile(a, want, 0o600); err != nil {
		return err.Error()
	}
	if err := os.WriteFile(b, got, 0o600); err != nil {
		return err.Error()
	}
	cmd := exec.Command("node", "describe.mjs", a, b)
	cmd.Dir = oracleDir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Sprintf("(describe.mjs failed: %v) %s", err, out)
	}
	return string(out)
}

// yjsApply has real Yjs apply each list of base64 updates to a fresh doc
// (with the gc option; apply.mjs) and returns what each doc holds afterwards.
func yjsApply(t testing.TB, gc bool, roots []oracleRoot, replicas [][]string) []oracleCheck {
	t.Helper()
	type replicaIn struct {
		Updates []string `json:"updates"`
	}
	in := struct {
		GC       bool         `json:"gc"`
		Roots    []oracleRoot `json:"roots"`
		Replicas []replicaIn  `json:"replicas"`
	}{GC: gc, Roots: roots}
	for _, r := range replicas {
		in.Replicas = append(in.Replicas, replicaIn{Updates: r})
	}
	dir := t.TempDir()
	inFile, outFile := filepath.Join(dir, "updates.json"), filepath.Join(dir, "yjs.json")
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(inFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	runNode(t, "apply.mjs", inFile, outFile)
	b, err = os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Replicas []oracleCheck `json:"replicas"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out.Replicas
}
