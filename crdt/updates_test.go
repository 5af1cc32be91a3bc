package crdt

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// rawInput resolves a corpus raw-case input: an update of the session or
// the Yjs output of an earlier merge case.
func rawInput(t *testing.T, s *oracleSession, in *oracleRawInput) []byte {
	t.Helper()
	switch {
	case in == nil:
		t.Fatalf("session %s: raw case without input", s.ID)
	case in.Update != nil:
		return s.updates[*in.Update]
	case in.Merge != nil:
		return mustB64(t, s.Raw[*in.Merge].Out)
	}
	t.Fatalf("session %s: raw input names neither update nor merge", s.ID)
	return nil
}

// TestRawUpdatesMatchYjs checks MergeUpdates, DiffUpdate and
// EncodeStateVectorFromUpdate against Yjs' outputs recorded in the corpus.
func TestRawUpdatesMatchYjs(t *testing.T) {
	sessions := readSessions(t, filepath.Join(oracleDir, "corpus"))
	counts := checkRawCases(t, sessions, "corpus")
	if counts["merge"] == 0 || counts["diff"] == 0 || counts["sv"] == 0 {
		t.Fatalf("corpus exercised too little: %v", counts)
	}
	t.Logf("matched Yjs on %v raw cases from %d sessions", counts, len(sessions))
}

// checkRawCases runs the raw-update expectations of sessions and counts the
// cases that matched, per operation.
func checkRawCases(t *testing.T, sessions []*oracleSession, context string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, s := range sessions {
		for ci, c := range s.Raw {
			want := mustB64(t, c.Out)
			var got []byte
			var err error
			switch c.Op {
			case "merge":
				in := make([][]byte, len(c.Inputs))
				for i, k := range c.Inputs {
					in[i] = s.updates[k]
				}
				got, err = MergeUpdates(in)
			case "diff":
				got, err = DiffUpdate(rawInput(t, s, c.Input), mustB64(t, c.SV))
			case "sv":
				got, err = EncodeStateVectorFromUpdate(rawInput(t, s, c.Input))
			default:
				t.Fatalf("session %s: unknown raw op %q", s.ID, c.Op)
			}
			if err != nil {
				t.Errorf("%s session %s raw case %d (%s): %v", context, s.ID, ci, c.Op, err)
				continue
			}
			if !bytes.Equal(got, want) {
				what := "update from " + c.Op
				if c.Op == "sv" {
					what = "state vector from update"
				}
				t.Errorf("%s session %s raw case %d (%s, inputs %v %+v): %s", context, s.ID, ci, c.Op, c.Inputs, c.Input, byteDiff(t, what, want, got))
				continue
			}
			counts[c.Op]++
		}
	}
	return counts
}

func TestRawUpdatesEdgeCases(t *testing.T) {
	// Yjs: mergeUpdates([]) is an empty update; one update comes back as is.
	got, err := MergeUpdates(nil)
	if err != nil || !bytes.Equal(got, []byte{0, 0}) {
		t.Fatalf("MergeUpdates(nil) = %v, %v; want [0 0]", got, err)
	}
	sessions := readSessions(t, filepath.Join(oracleDir, "corpus"))
	u := sessions[0].updates[0]
	got, err = MergeUpdates([][]byte{u})
	if err != nil || !bytes.Equal(got, u) {
		t.Fatalf("MergeUpdates of one update changed it: %v", err)
	}
	got[0] ^= 0xff
	if bytes.Equal(got, u) {
		t.Fatal("MergeUpdates of one update returned the caller's slice, not a copy")
	}
	sv, err := EncodeStateVectorFromUpdate([]byte{0, 0})
	if err != nil || !bytes.Equal(sv, []byte{0}) {
		t.Fatalf("EncodeStateVectorFromUpdate(empty update) = %v, %v; want [0]", sv, err)
	}
	// diffing against the update's own state vector leaves only the deletes
	merged := mustB64(t, sessions[0].Raw[len(sessions[0].Raw)-1].Out)
	for _, c := range sessions[0].Raw {
		if c.Op == "merge" && len(c.Inputs) == len(sessions[0].updates) {
			merged = mustB64(t, c.Out)
		}
	}
	own, err := EncodeStateVectorFromUpdate(merged)
	if err != nil {
		t.Fatal(err)
	}
	diff, err := DiffUpdate(merged, own)
	if err != nil {
		t.Fatal(err)
	}
	if diff[0] != 0 {
		t.Fatalf("diff against the update's own state vector still holds structs: % x", diff[:min(16, len(diff))])
	}
}

// TestRawUpdatesRejectMalformed feeds truncated and corrupted updates: every
// call must return an error wrapping ErrMalformed or succeed, never
// panic; truncations must always fail.
func TestRawUpdatesRejectMalformed(t *testing.T) {
	sessions := readSessions(t, filepath.Join(oracleDir, "corpus"))
	rng := rand.New(rand.NewPCG(1, 2))
	var inputs [][]byte
	for _, s := range sessions[:20] {
		inputs = append(inputs, s.updates...)
	}
	call := func(u []byte) (errs []error) {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("panic on malformed update % x: %v", u, r)
			}
		}()
		_, err := MergeUpdates([][]byte{u, inputs[0]})
		errs = append(errs, err)
		_, err = DiffUpdate(u, []byte{0})
		errs = append(errs, err)
		_, err = EncodeStateVectorFromUpdate(u)
		errs = append(errs, err)
		return errs
	}
	for _, u := range inputs {
		// Every proper prefix that cuts the struct section must fail. (A
		// prefix may still parse when the tail was all delete set.)
		for cut := 0; cut < len(u)-1; cut += 1 + rng.IntN(4) {
			for _, err := range call(u[:cut]) {
				if err == nil {
					continue
				}
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("truncated update: error %v does not wrap ErrMalformed", err)
				}
			}
		}
		for range 20 {
			c := bytes.Clone(u)
			c[rng.IntN(len(c))] = byte(rng.IntN(256))
			for _, err := range call(c) {
				if err != nil && !errors.Is(err, ErrMalformed) {
					t.Fatalf("corrupted update: error %v does not wrap ErrMalformed", err)
				}
			}
		}
	}
	if _, err := EncodeStateVectorFromUpdate(nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("EncodeStateVectorFromUpdate(nil) = %v, want ErrMalformed", err)
	}
	if _, err := DiffUpdate(inputs[0], []byte{5}); err == nil {
		t.Fatal("DiffUpdate accepted a truncated state vector")
	}
}

// TestStateVectorCodec round-trips the corpus' Yjs state vectors.
func TestStateVectorCodec(t *testing.T) {
	sessions := readSessions(t, filepath.Join(oracleDir, "corpus"))
	n := 0
	for _, s := range sessions {
		for _, r := range s.Replicas {
			for _, c := range r.Checks {
				want := mustB64(t, c.SV)
				sv, err := DecodeStateVector(want)
				if err != nil {
					t.Fatalf("session %s: DecodeStateVector: %v", s.ID, err)
				}
				if got := EncodeStateVector(sv); !bytes.Equal(got, want) {
					t.Fatalf("session %s: %s", s.ID, byteDiff(t, "state vector", want, got))
				}
				n++
			}
		}
	}
	if _, err := DecodeStateVector([]byte{2, 1}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("truncated state vector: err %v, want ErrMalformed", err)
	}
	t.Logf("%d state vectors round-tripped", n)
}

// FuzzRawUpdates: MergeUpdates, DiffUpdate and EncodeStateVectorFromUpdate
// never panic, and every error they return wraps ErrMalformed. Seeds are
// corpus updates; `go test -fuzz FuzzRawUpdates ./crdt` explores further.
func FuzzRawUpdates(f *testing.F) {
	sessions := readSessions(f, filepath.Join(oracleDir, "corpus"))
	for _, s := range sessions[:10] {
		for i := 0; i+1 < len(s.updates); i += 5 {
			f.Add(s.updates[i], s.updates[i+1], mustB64(f, s.Replicas[0].Checks[0].SV))
		}
	}
	f.Fuzz(func(t *testing.T, a, b, sv []byte) {
		check := func(what string, err error) {
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s: error %v does not wrap ErrMalformed", what, err)
			}
		}
		merged, err := MergeUpdates([][]byte{a, b})
		check("MergeUpdates", err)
		if err == nil {
			// whatever merges must itself be a well-formed update
			if _, err := EncodeStateVectorFromUpdate(merged); err != nil {
				t.Fatalf("MergeUpdates produced an update that does not decode: %v", err)
			}
		}
		_, err = DiffUpdate(a, sv)
		check("DiffUpdate", err)
		_, err = EncodeStateVectorFromUpdate(a)
		check("EncodeStateVectorFromUpdate", err)
	})
}
