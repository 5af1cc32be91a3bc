package crdt

// Differential tests against real Yjs 13.6.33: sessions recorded by
// testdata/oracle/gen.mjs (format in testdata/oracle/README.md) are replayed
// on Go replicas, which must reach the same content, state vector and
// encodeStateAsUpdate bytes as the Yjs replicas did after the same steps.
//
// QUIRE_ORACLE_SESSIONS=N (with optional QUIRE_ORACLE_SEED) generates N fresh
// sessions with Node instead of reading the checked-in corpus.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func newOracleDoc(client uint64, gc bool, roots []oracleRoot) *Doc {
	d := NewDoc(WithClientID(client), WithGC(gc))
	for _, r := range roots {
		defineRoot(d, r)
	}
	return d
}

func defineRoot(d *Doc, r oracleRoot) {
	switch r.Type {
	case "Text":
		d.GetText(r.Name)
	case "Map":
		d.GetMap(r.Name)
	case "Array":
		d.GetArray(r.Name)
	case "XmlFragment":
		d.GetXmlFragment(r.Name)
	default:
		panic("unknown root type " + r.Type)
	}
}

// checkContent compares a Go doc's content, deltas, state vector and
// pending flag with one Yjs expectation and returns the differences.
func checkContent(t testing.TB, d *Doc, roots []oracleRoot, want oracleCheck) []string {
	var errs []string
	goJSON := d.ToJSON()
	for _, r := range roots {
		w, err := canonicalJSON(json.RawMessage(want.JSON[r.Name]))
		if err != nil {
			t.Fatal(err)
		}
		g, err := canonicalJSON(goJSON[r.Name])
		if err != nil {
			errs = append(errs, fmt.Sprintf("root %q (%s): Go JSON does not marshal: %v", r.Name, r.Type, err))
			continue
		}
		if w != g {
			errs = append(errs, fmt.Sprintf("root %q (%s) content differs%s", r.Name, r.Type, jsonDiff(w, g)))
		}
		if r.Type == "Text" {
			if wd, ok := want.Deltas[r.Name]; ok {
				w, err := canonicalJSON(wd)
				if err != nil {
					t.Fatal(err)
				}
				delta := d.GetText(r.Name).Delta()
				if len(delta) == 0 {
					delta = []DeltaOp{} // Yjs: an empty array
				}
				g, err := canonicalJSON(delta)
				if err != nil {
					errs = append(errs, fmt.Sprintf("root %q delta does not marshal: %v", r.Name, err))
				} else if w != g {
					errs = append(errs, fmt.Sprintf("root %q delta differs%s", r.Name, jsonDiff(w, g)))
				}
			}
		}
	}
	if sv, w := d.EncodeStateVector(), mustB64(t, want.SV); !bytes.Equal(sv, w) {
		errs = append(errs, byteDiff(t, "state vector", w, sv))
	}
	if d.HasPending() != want.Pending {
		errs = append(errs, fmt.Sprintf("HasPending: Yjs %v, Go %v", want.Pending, d.HasPending()))
	}
	return errs
}

// checkAgainst is checkContent plus the encodeStateAsUpdate bytes.
func checkAgainst(t testing.TB, d *Doc, roots []oracleRoot, want oracleCheck) []string {
	errs := checkContent(t, d, roots, want)
	state, err := d.EncodeStateAsUpdate(nil)
	if err != nil {
		errs = append(errs, fmt.Sprintf("EncodeStateAsUpdate: %v", err))
	} else if w := mustB64(t, want.State); !bytes.Equal(state, w) {
		errs = append(errs, byteDiff(t, "encodeStateAsUpdate", w, state))
	}
	return errs
}

// maxReportedReplicas stops a run after this many diverging replicas: the
// first ones are what needs fixing, and more only slow the run down.
const maxReportedReplicas = 25

// replaySession replays every replica of s and reports the first
// divergence of each replica; it returns how many replicas diverged.
func replaySession(t *testing.T, s *oracleSession, context string) int {
	t.Helper()
	failed := 0
	for ri, r := range s.Replicas {
		d := newOracleDoc(r.Client, s.GC, s.Roots)
		done := 0
	checks:
		for _, c := range r.Checks {
			for ; done < c.After; done++ {
				k := r.Steps[done]
				if err := d.ApplyUpdate(s.updates[k]); err != nil {
					t.Errorf("%s session %s replica %d (client %d): step %d: ApplyUpdate(update %d) failed: %v", context, s.ID, ri, r.Client, done, k, err)
					failed++
					break checks
				}
			}
			if errs := checkAgainst(t, d, s.Roots, c); len(errs) > 0 {
				t.Errorf("%s session %s (%s, gc %v) replica %d (client %d) after %d of %d steps (updates %v):\n%s",
					context, s.ID, s.Kind, s.GC, ri, r.Client, c.After, len(r.Steps), r.Steps[:c.After], strings.Join(errs, "\n"))
				failed++
				break
			}
		}
	}
	return failed
}

// replaySessions replays sessions, stopping after maxReportedReplicas
// diverging replicas.
func replaySessions(t *testing.T, sessions []*oracleSession, context string) {
	t.Helper()
	failed := 0
	for _, s := range sessions {
		if failed += replaySession(t, s, context); failed >= maxReportedReplicas {
			t.Fatalf("%s: stopped after %d diverging replicas", context, failed)
		}
	}
}

func TestOracleCorpus(t *testing.T) {
	sessions := readSessions(t, filepath.Join(oracleDir, "corpus"))
	if len(sessions) < 100 {
		t.Fatalf("corpus holds %d sessions, want at least 100", len(sessions))
	}
	replaySessions(t, sessions, "corpus")
	t.Logf("replayed %d corpus sessions", len(sessions))
}

// TestOracleFresh runs QUIRE_ORACLE_SESSIONS freshly generated sessions
// (none when unset; `make oracle-fresh` runs 2,000).
func TestOracleFresh(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("QUIRE_ORACLE_SESSIONS"))
	if n <= 0 {
		t.Log("QUIRE_ORACLE_SESSIONS is not set: the checked-in corpus (TestOracleCorpus) is the default check")
		return
	}
	seed := os.Getenv("QUIRE_ORACLE_SEED")
	if seed == "" {
		seed = strconv.FormatUint(rand.Uint64()%1_000_000_000, 10)
	}
	t.Logf("QUIRE_ORACLE_SEED=%s QUIRE_ORACLE_SESSIONS=%d", seed, n)
	dir := t.TempDir()
	generateSessions(t, seed, n, dir)
	sessions := readSessions(t, dir)
	if len(sessions) != n {
		t.Fatalf("generated %d sessions, want %d", len(sessions), n)
	}
	replaySessions(t, sessions, "QUIRE_ORACLE_SEED="+seed)
	counts := checkRawCases(t, sessions, "QUIRE_ORACLE_SEED="+seed)
	t.Logf("replayed %d sessions; raw-update cases matched: %v", n, counts)
	if t.Failed() {
		t.Logf("reproduce with QUIRE_ORACLE_SEED=%s QUIRE_ORACLE_SESSIONS=%d", seed, n)
	}
}

// generateSessions runs gen.mjs in two processes (CI has two cores).
func generateSessions(t *testing.T, seed string, n int, dir string) {
	t.Helper()
	nodeOracle(t)
	half := n / 2
	parts := [][2]int{{0, half}, {half, n}}
	var wg sync.WaitGroup
	errs := make([]error, len(parts))
	outs := make([][]byte, len(parts))
	for i, p := range parts {
		if p[1] <= p[0] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("node", "gen.mjs", "--seed", seed, "--start", strconv.Itoa(p[0]),
				"--sessions", strconv.Itoa(p[1]-p[0]), "--out", dir, "--gzip-level", "1")
			cmd.Dir = oracleDir
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("gen.mjs (seed %s, part %d): %v\n%s", seed, i, err, outs[i])
		}
	}
}

// TestOracleGCRunOverlap: an update whose GC run starts before the clock the
// document already has (two merged updates from a fresh session, seed
// 755601605 session 312) must integrate only the new part of the run, as
// Yjs does, and then match Yjs exactly.
func TestOracleGCRunOverlap(t *testing.T) {
	roots := []oracleRoot{{Name: "text", Type: "Text"}, {Name: "map", Type: "Map"}, {Name: "array", Type: "Array"}, {Name: "default", Type: "XmlFragment"}}
	updates := []string{
		"AQEkAAAMAvr///8PAQENJAEADA==",
		"ARgkAAATCiAoAPWq4eoNAAFiAXcAgSQhAQAJR/r///8PPAMHaGVhZGluZwcAJD4GBAAkPw/OqfCdhJ7wn5GN8J+PvSAoACQ+BWxl" +
			"dmVsAX0BhyQiAwlwYXJhZ3JhcGgHACRJBgQAJEoMw7zjgYvjgap0YWIJCgnH+v///w87+v///w8UAwhsaXN0SXRlbQcAJFsDCXBh" +
			"cmFncmFwaAcAJFwGBAAkXQbDqc6pw5/E9arh6g0W9arh6g0XDOKAlMOpJmFtcDvDn0f1quHqDREDCXBhcmFncmFwaAcAJGkGxyQ+" +
			"+v///w88AwlwYXJhZ3JhcGgHACRrBgQAJGwRIOa8ouWtlzx0YWc+aXBzdW3E+v///w9e+v///w9fBPCfmIAE+v///w8DAQ09CUcK" +
			"9arh6g0BHwb/////BwMSAR0BJgIkBAATKAUwATML",
	}
	d := newOracleDoc(3713553781, true, roots)
	for i, u := range updates {
		if err := d.ApplyUpdate(mustB64(t, u)); err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	want := yjsApply(t, true, roots, [][]string{updates})[0]
	if errs := checkAgainst(t, d, roots, want); len(errs) > 0 {
		t.Fatalf("differs from Yjs:\n%s", strings.Join(errs, "\n"))
	}
}

// TestOracleStuckPending pins a Yjs 13.6.33 quirk the Go CRDT must share:
// a replica that receives every update can still stay pending. Client 2
// types "a", client 21 "b" after it, client 2 "c" and "d" after that. A
// replica applies mergeUpdates(b, d) — b waits for "a", d for "c" — and then
// "a" and "c": "a" integrates, "c" waits for "b", and "b" is never retried
// because Yjs only retries when a client's clock passes the lowest clock it
// recorded as missing (here client 2's clock 1, the gap before "d").
// Applied one by one in the same order, the same four updates complete.
func TestOracleStuckPending(t *testing.T) {
	x, y := NewDoc(WithClientID(2)), NewDoc(WithClientID(21))
	tx, ty := x.GetText("t"), y.GetText("t")
	a := x.Transact(func() { tx.Insert(0, "a") })
	if err := y.ApplyUpdate(a); err != nil {
		t.Fatal(err)
	}
	b := y.Transact(func() { ty.Insert(1, "b") })
	if err := x.ApplyUpdate(b); err != nil {
		t.Fatal(err)
	}
	c := x.Transact(func() { tx.Insert(2, "c") })
	d := x.Transact(func() { tx.Insert(3, "d") })
	merge := func(us ...[]byte) []byte {
		m, err := MergeUpdates(us)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	sequences := [][][]byte{
		{merge(b, d), merge(a, c)},
		{merge(b, d), a, c},
		{b, d, a, c},
	}
	roots := []oracleRoot{{Name: "t", Type: "Text"}}
	var encoded [][]string
	for _, seq := range sequences {
		var e []string
		for _, u := range seq {
			e = append(e, base64.StdEncoding.EncodeToString(u))
		}
		encoded = append(encoded, e)
	}
	yjs := yjsApply(t, true, roots, encoded)
	wantText := []string{`"a"`, `"a"`, `"abcd"`}
	for i, seq := range sequences {
		if got := string(yjs[i].JSON["t"]); got != wantText[i] || yjs[i].Pending != (i < 2) {
			t.Fatalf("sequence %d: Yjs now gives %s (pending %v); this test pins Yjs 13.6.33's %s", i, got, yjs[i].Pending, wantText[i])
		}
		r := newOracleDoc(99, true, roots)
		for _, u := range seq {
			if err := r.ApplyUpdate(u); err != nil {
				t.Fatal(err)
			}
		}
		if errs := checkAgainst(t, r, roots, yjs[i]); len(errs) > 0 {
			t.Errorf("sequence %d differs from Yjs:\n%s", i, strings.Join(errs, "\n"))
		}
	}
}
