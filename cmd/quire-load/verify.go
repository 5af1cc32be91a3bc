package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/quire/quire/crdt"
)

// checkDocState checks a document's full state (a v1 update, as sync step 2
// carries it) against what its editors sent, twice:
//
//  1. in the raw structs: each client's structs come in clock order, so each
//     editor's tokens must appear as 0, 1, 2, … exactly once, and no string
//     may be anything but a token of this document's editors;
//  2. in the text a crdt.Doc integrates from it: the same, and each editor's
//     tokens form one contiguous run (each edit names the editor's own last
//     character as its origin, so Yjs keeps the run together).
//
// It returns how many edits of each editor the raw structs hold (nil if they
// do not read).
func checkDocState(update []byte, doc *docRun) ([]uint64, error) {
	check := newTokenCheck(doc)
	var textErr error
	err := crdt.ScanStrings(update, func(s []byte) {
		if err := parseTokens(s, check.add); err != nil && textErr == nil {
			textErr = fmt.Errorf("%w: %w: %q", errDiverged, err, truncate(s, 60))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDiverged, err)
	}
	counts := check.next
	if textErr != nil {
		return counts, textErr
	}
	if err := check.finish(); err != nil {
		return counts, err
	}

	d := crdt.NewDoc()
	if err := d.ApplyUpdate(update); err != nil {
		return counts, fmt.Errorf("%w: crdt.Doc rejects the state: %w", errDiverged, err)
	}
	if d.HasPending() {
		return counts, fmt.Errorf("%w: the state has structs whose dependencies are missing", errDiverged)
	}
	text := d.GetText(textRoot).String()
	check = newTokenCheck(doc)
	check.contiguous = true
	if err := parseTokens([]byte(text), check.add); err != nil {
		return counts, fmt.Errorf("%w: document text: %w", errDiverged, err)
	}
	if err := check.finish(); err != nil {
		return counts, fmt.Errorf("document text: %w", err)
	}
	return counts, nil
}

func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}
