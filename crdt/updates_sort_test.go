package crdt

import (
	"encoding/json"
	"slices"
	"testing"
)

// TestJSSortMatchesV8 checks that jsSort orders arrays exactly as V8 does,
// also under the inconsistent comparator Yjs' mergeUpdates uses.
func TestJSSortMatchesV8(t *testing.T) {
	var cases []struct {
		Items [][3]int `json:"items"`
		Order []int    `json:"order"`
	}
	if err := json.Unmarshal(runNode(t, "jssort.mjs", "7", "300"), &cases); err != nil {
		t.Fatal(err)
	}
	cmp := func(a, b [4]int) int {
		if a[0] != b[0] {
			return b[0] - a[0]
		}
		if a[1] != b[1] {
			return a[1] - b[1]
		}
		if a[2] == b[2] {
			return 0
		}
		if a[2] == 2 {
			return 1
		}
		return -1
	}
	long := 0
	for ci, c := range cases {
		a := make([][4]int, len(c.Items))
		for i, it := range c.Items {
			a[i] = [4]int{it[0], it[1], it[2], i}
		}
		jsSort(a, cmp)
		got := make([]int, len(a))
		for i, v := range a {
			got[i] = v[3]
		}
		if !slices.Equal(got, c.Order) {
			t.Fatalf("case %d (%d items): jsSort order differs from V8\n  V8 %v\n  Go %v", ci, len(a), c.Order, got)
		}
		if len(a) >= 64 {
			long++
		}
	}
	if long == 0 {
		t.Fatal("no case long enough for TimSort's merge phase")
	}
}
