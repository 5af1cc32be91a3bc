package main

import (
	"fmt"
	"math/rand/v2"
)

// checkDocState checks a document's full state (a v1 update, as sync step 2
// carries it) against what its editors sent. It reads the update's structs
// directly: each client's structs come in clock order, so each editor's
// tokens must appear as 0, 1, 2, … exactly once.
func checkDocState(update []byte, doc *docRun) error {
	check := newTokenCheck(doc)
	var textErr error
	err := scanStrings(update, func(s []byte) {
		if err := parseTokens(s, check.add); err != nil && textErr == nil {
			textErr = fmt.Errorf("%w: %w: %q", errDiverged, err, truncate(s, 60))
		}
	})
	if err != nil {
		return fmt.Errorf("%w: %w", errDiverged, err)
	}
	if textErr != nil {
		return textErr
	}
	return check.finish()
}

func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}
