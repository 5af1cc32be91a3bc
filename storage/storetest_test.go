package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// newStoreFunc prepares fresh, empty storage for one test and returns how
// to open it. Opening again after Close must show the same data, so the
// suite can test durability. The engine's own cleanup checks the data's
// consistency after the test.
type newStoreFunc func(t *testing.T) (open func() Store)

// testStore runs the contract every engine must keep.
func testStore(t *testing.T, newStore newStoreFunc) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open func() Store)
	}{
		{"CreateGet", testCreateGet},
		{"Rename", testRename},
		{"AppendLoad", testAppendLoad},
		{"AppendUnknownDocWritesNothing", testAppendUnknownDoc},
		{"AppendInvalid", testAppendInvalid},
		{"Compact", testCompact},
		{"SeqsSurviveCompactAndReopen", testSeqsAcrossReopen},
		{"Durability", testDurability},
		{"ListSorts", testListSorts},
		{"ListFilter", testListFilter},
		{"ListCursorStableUnderChanges", testListCursorStable},
		{"ListLimitAndBadInput", testListLimits},
		{"DeleteDoc", testDeleteDoc},
		{"Versions", testVersions},
		{"ShareTokens", testShareTokens},
		{"Closed", testClosed},
		{"CanceledContext", testCanceledContext},
		{"ConcurrentAppends", testConcurrentAppends},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// ---- helpers ----

func mustCreate(t *testing.T, s Store, meta DocMeta) {
	t.Helper()
	if err := s.CreateDoc(context.Background(), meta); err != nil {
		t.Fatalf("CreateDoc(%q): %v", meta.ID, err)
	}
}

func mustAppend(t *testing.T, s Store, entries ...Entry) []uint64 {
	t.Helper()
	seqs, err := s.Append(context.Background(), entries)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if len(seqs) != len(entries) {
		t.Fatalf("Append returned %d seqs for %d entries", len(seqs), len(entries))
	}
	return seqs
}

func mustLoad(t *testing.T, s Store, id string) Stored {
	t.Helper()
	st, err := s.Load(context.Background(), id)
	if err != nil {
		t.Fatalf("Load(%q): %v", id, err)
	}
	return st
}

func mustGet(t *testing.T, s Store, id string) DocMeta {
	t.Helper()
	m, err := s.GetDoc(context.Background(), id)
	if err != nil {
		t.Fatalf("GetDoc(%q): %v", id, err)
	}
	return m
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

func upd(s string) []byte { return []byte(s) }

func updatesEqual(a, b [][]byte) bool {
	return slices.EqualFunc(a, b, func(x, y []byte) bool { return bytes.Equal(x, y) })
}

// base is a fixed instant so times in tests are exact.
var base = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

// ---- tests ----

func testCreateGet(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	meta := DocMeta{ID: "d1", Title: "Plan", Created: base, Updated: base.Add(time.Second), Size: 999}
	mustCreate(t, s, meta)
	got := mustGet(t, s, "d1")
	meta.Size = 0 // a new document holds nothing, whatever the caller says
	if got != meta {
		t.Fatalf("GetDoc = %+v, want %+v", got, meta)
	}
	wantErr(t, "CreateDoc duplicate", s.CreateDoc(ctx, DocMeta{ID: "d1"}), ErrExists)
	if got := mustGet(t, s, "d1"); got != meta {
		t.Fatalf("duplicate create changed the doc: %+v", got)
	}

	before := time.Now()
	mustCreate(t, s, DocMeta{ID: "d2"})
	d2 := mustGet(t, s, "d2")
	if d2.Title != "d2" || d2.Created.Before(before.Add(-time.Second)) || d2.Updated != d2.Created || d2.Created.Location() != time.UTC {
		t.Fatalf("defaults: %+v (want title = id, created ≈ now UTC, updated = created)", d2)
	}

	local := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600))
	mustCreate(t, s, DocMeta{ID: "d3", Created: local})
	if got := mustGet(t, s, "d3").Created; !got.Equal(local) || got.Location() != time.UTC {
		t.Fatalf("Created %v, want %v in UTC", got, local)
	}

	_, err := s.GetDoc(ctx, "nope")
	wantErr(t, "GetDoc missing", err, ErrNotFound)
	if !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("error %q does not name the doc", err)
	}
	wantErr(t, "CreateDoc empty id", s.CreateDoc(ctx, DocMeta{}), ErrInvalid)
	wantErr(t, "CreateDoc long title", s.CreateDoc(ctx, DocMeta{ID: "x", Title: strings.Repeat("a", 5000)}), ErrInvalid)
	_, err = s.GetDoc(ctx, "x")
	wantErr(t, "GetDoc after rejected create", err, ErrNotFound)
}

func testRename(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	mustCreate(t, s, DocMeta{ID: "d", Title: "Old", Created: base})
	if err := s.RenameDoc(ctx, "d", "New"); err != nil {
		t.Fatal(err)
	}
	got := mustGet(t, s, "d")
	if got.Title != "New" || !got.Updated.After(base) || got.Created != base {
		t.Fatalf("after rename: %+v", got)
	}
	if err := s.RenameDoc(ctx, "d", ""); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "d").Title; got != "d" {
		t.Fatalf("empty title: got %q, want the id", got)
	}
	wantErr(t, "RenameDoc missing", s.RenameDoc(ctx, "nope", "x"), ErrNotFound)
	wantErr(t, "RenameDoc long", s.RenameDoc(ctx, "d", strings.Repeat("é", 600)), ErrInvalid)
	docs, _, err := s.ListDocs(ctx, ListOptions{Sort: SortTitle, Filter: "d"})
	if err != nil || len(docs) != 1 || docs[0].Title != "d" {
		t.Fatalf("title index after renames: %+v, %v", docs, err)
	}
}

func testAppendLoad(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	mustCreate(t, s, DocMeta{ID: "a", Created: base})
	mustCreate(t, s, DocMeta{ID: "b", Created: base})

	st := mustLoad(t, s, "a")
	if st.Snapshot != nil || len(st.Updates) != 0 || st.LastSeq != 0 || st.SnapshotSeq != 0 {
		t.Fatalf("new doc loads as %+v", st)
	}
	seqs := mustAppend(t, s,
		Entry{"a", upd("a1")}, Entry{"b", upd("b1")}, Entry{"a", upd("a2")},
		Entry{"a", upd("a3")}, Entry{"b", upd("b2")})
	if want := []uint64{1, 1, 2, 3, 2}; !slices.Equal(seqs, want) {
		t.Fatalf("seqs = %v, want %v", seqs, want)
	}
	seqs = mustAppend(t, s, Entry{"b", upd("b3")})
	if seqs[0] != 3 {
		t.Fatalf("next seq of b = %d, want 3", seqs[0])
	}
	st = mustLoad(t, s, "a")
	if !updatesEqual(st.Updates, [][]byte{upd("a1"), upd("a2"), upd("a3")}) || st.LastSeq != 3 {
		t.Fatalf("Load(a) = %q last %d", st.Updates, st.LastSeq)
	}
	st.Updates[0][0] = 'X' // the caller owns what Load returns
	if again := mustLoad(t, s, "a"); string(again.Updates[0]) != "a1" {
		t.Fatalf("Load returned memory shared with the store")
	}
	ma, mb := mustGet(t, s, "a"), mustGet(t, s, "b")
	if ma.Size != 6 || mb.Size != 6 {
		t.Fatalf("sizes a=%d b=%d, want 6 and 6", ma.Size, mb.Size)
	}
	if !ma.Updated.After(base) || ma.Created != base {
		t.Fatalf("append did not advance Updated: %+v", ma)
	}
	if seqs, err := s.Append(ctx, nil); err != nil || len(seqs) != 0 {
		t.Fatalf("Append(nil) = %v, %v", seqs, err)
	}
	_, err := s.Load(ctx, "nope")
	wantErr(t, "Load missing", err, ErrNotFound)
}

func testAppendUnknownDoc(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	mustCreate(t, s, DocMeta{ID: "a", Created: base})
	mustAppend(t, s, Entry{"a", upd("a1")})
	before := mustGet(t, s, "a")

	seqs, err := s.Append(ctx, []Entry{{"a", upd("a2")}, {"ghost", upd("g1")}, {"a", upd("a3")}, {"ghost2", upd("g2")}, {"ghost", upd("g3")}})
	wantErr(t, "Append with unknown doc", err, ErrNotFound)
	if seqs != nil || !strings.Contains(err.Error(), `"ghost"`) {
		t.Fatalf("seqs %v, error %q (want nil and the doc named)", seqs, err)
	}
	var missing *MissingDocsError
	if !errors.As(err, &missing) || !slices.Equal(missing.DocIDs, []string{"ghost", "ghost2"}) {
		t.Fatalf("error %#v: want a *MissingDocsError naming ghost and ghost2 once each", err)
	}
	if got := mustGet(t, s, "a"); got != before {
		t.Fatalf("failed append changed metadata: %+v, was %+v", got, before)
	}
	st := mustLoad(t, s, "a")
	if !updatesEqual(st.Updates, [][]byte{upd("a1")}) || st.LastSeq != 1 {
		t.Fatalf("failed append wrote: %q last %d", st.Updates, st.LastSeq)
	}
	if seqs := mustAppend(t, s, Entry{"a", upd("a2")}); seqs[0] != 2 {
		t.Fatalf("seq after failed append = %d, want 2", seqs[0])
	}
}

func testAppendInvalid(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	mustCreate(t, s, DocMeta{ID: "a"})
	_, err := s.Append(ctx, []Entry{{"a", upd("ok")}, {"a", nil}})
	wantErr(t, "Append empty update", err, ErrInvalid)
	_, err = s.Append(ctx, []Entry{{"", upd("x")}})
	wantErr(t, "Append empty doc id", err, ErrInvalid)
	if st := mustLoad(t, s, "a"); len(st.Updates) != 0 || st.LastSeq != 0 {
		t.Fatalf("rejected appends wrote %+v", st)
	}
}

func testCompact(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	mustCreate(t, s, DocMeta{ID: "d"})
	mustAppend(t, s, Entry{"d", upd("u1")}, Entry{"d", upd("u2")}, Entry{"d", upd("u3")},
		Entry{"d", upd("u4")}, Entry{"d", upd("u5")})
	updatedBefore := mustGet(t, s, "d").Updated

	wantErr(t, "Compact beyond last", s.Compact(ctx, "d", upd("S"), 6), ErrInvalid)
	wantErr(t, "Compact empty snapshot", s.Compact(ctx, "d", nil, 3), ErrInvalid)
	wantErr(t, "Compact missing", s.Compact(ctx, "nope", upd("S"), 0), ErrNotFound)
	if st := mustLoad(t, s, "d"); len(st.Updates) != 5 || st.Snapshot != nil {
		t.Fatalf("rejected compactions changed the doc: %+v", st)
	}

	if err := s.Compact(ctx, "d", upd("snap-3"), 3); err != nil {
		t.Fatal(err)
	}
	st := mustLoad(t, s, "d")
	if string(st.Snapshot) != "snap-3" || st.SnapshotSeq != 3 || st.LastSeq != 5 ||
		!updatesEqual(st.Updates, [][]byte{upd("u4"), upd("u5")}) {
		t.Fatalf("after compact: %+v", st)
	}
	m := mustGet(t, s, "d")
	if m.Size != int64(len("snap-3")+4) {
		t.Fatalf("size after compact = %d, want %d", m.Size, len("snap-3")+4)
	}
	if m.Updated != updatedBefore {
		t.Fatalf("compaction changed Updated (%v → %v); it changes no content", updatedBefore, m.Updated)
	}
	wantErr(t, "Compact older than snapshot", s.Compact(ctx, "d", upd("old"), 2), ErrInvalid)

	if seqs := mustAppend(t, s, Entry{"d", upd("u6")}); seqs[0] != 6 {
		t.Fatalf("seq after compact = %d, want 6", seqs[0])
	}
	if err := s.Compact(ctx, "d", upd("snap-6"), 6); err != nil {
		t.Fatal(err)
	}
	st = mustLoad(t, s, "d")
	if string(st.Snapshot) != "snap-6" || len(st.Updates) != 0 || st.LastSeq != 6 || st.SnapshotSeq != 6 {
		t.Fatalf("after full compact: %+v", st)
	}
	if m := mustGet(t, s, "d"); m.Size != int64(len("snap-6")) {
		t.Fatalf("size = %d", m.Size)
	}
	// Re-compacting at the same seq (a re-encoded snapshot) is allowed.
	if err := s.Compact(ctx, "d", upd("snap-6b"), 6); err != nil {
		t.Fatal(err)
	}
	if seqs := mustAppend(t, s, Entry{"d", upd("u7")}); seqs[0] != 7 {
		t.Fatalf("seq after full compact = %d, want 7", seqs[0])
	}
}

func testSeqsAcrossReopen(t *testing.T, open func() Store) {
	s := open()
	mustCreate(t, s, DocMeta{ID: "d"})
	mustAppend(t, s, Entry{"d", upd("u1")}, Entry{"d", upd("u2")}, Entry{"d", upd("u3")})
	if err := s.Compact(context.Background(), "d", upd("S3"), 3); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open()
	if seqs := mustAppend(t, s, Entry{"d", upd("u4")}); seqs[0] != 4 {
		t.Fatalf("after compact + reopen the next seq is %d, want 4 (seqs are never reused)", seqs[0])
	}
	st := mustLoad(t, s, "d")
	if string(st.Snapshot) != "S3" || st.SnapshotSeq != 3 || st.LastSeq != 4 || !updatesEqual(st.Updates, [][]byte{upd("u4")}) {
		t.Fatalf("after reopen: %+v", st)
	}
}

func testDurability(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	mustCreate(t, s, DocMeta{ID: "d", Title: "Kept", Created: base})
	mustAppend(t, s, Entry{"d", upd("u1")}, Entry{"d", upd("u2")})
	if err := s.Compact(ctx, "d", upd("S1"), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateVersion(ctx, Version{ID: "v1", DocID: "d", Name: "first", Created: base, State: upd("V")}); err != nil {
		t.Fatal(err)
	}
	tok := ShareToken{ID: "t1", DocID: "d", Role: RoleEditor, Created: base, ExpiresAt: base.Add(time.Hour)}
	if err := s.CreateShareToken(ctx, tok, "secret-1"); err != nil {
		t.Fatal(err)
	}
	meta := mustGet(t, s, "d")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open()
	if got := mustGet(t, s, "d"); got != meta {
		t.Fatalf("meta after reopen %+v, want %+v", got, meta)
	}
	st := mustLoad(t, s, "d")
	if string(st.Snapshot) != "S1" || !updatesEqual(st.Updates, [][]byte{upd("u2")}) || st.LastSeq != 2 {
		t.Fatalf("content after reopen: %+v", st)
	}
	v, err := s.GetVersion(ctx, "d", "v1")
	if err != nil || string(v.State) != "V" || v.Name != "first" || v.Created != base {
		t.Fatalf("version after reopen: %+v, %v", v, err)
	}
	got, err := s.LookupShareToken(ctx, "secret-1")
	if err != nil || got != tok {
		t.Fatalf("token after reopen: %+v, %v; want %+v", got, err, tok)
	}
}

// listAll pages through ListDocs and returns the ids in order.
func listAll(t *testing.T, s Store, opts ListOptions) []string {
	t.Helper()
	var ids []string
	for page := 0; ; page++ {
		docs, next, err := s.ListDocs(context.Background(), opts)
		if err != nil {
			t.Fatalf("ListDocs(%+v): %v", opts, err)
		}
		if len(docs) > opts.Limit && opts.Limit > 0 {
			t.Fatalf("page of %d over limit %d", len(docs), opts.Limit)
		}
		for _, d := range docs {
			ids = append(ids, d.ID)
		}
		if next == "" {
			return ids
		}
		if len(docs) == 0 {
			t.Fatalf("empty page with a next cursor")
		}
		if page > 1000 {
			t.Fatalf("pagination does not end")
		}
		opts.Cursor = next
	}
}

// seedList creates n documents with distinct creation times (not in id
// order) and mixed-case titles, and appends to some so their Updated moves.
func seedList(t *testing.T, s Store, n int) []DocMeta {
	t.Helper()
	titles := []string{"alpha", "Beta", "gamma report", "Delta", "ALPHA", "epsilon Report", "zeta", "beta"}
	for i := range n {
		created := base.Add(time.Duration((i*7)%n) * time.Minute)
		mustCreate(t, s, DocMeta{ID: fmt.Sprintf("doc-%02d", i), Title: titles[i%len(titles)], Created: created})
	}
	for i := 0; i < n; i += 3 {
		mustAppend(t, s, Entry{fmt.Sprintf("doc-%02d", i), upd("x")})
	}
	var metas []DocMeta
	for i := range n {
		metas = append(metas, mustGet(t, s, fmt.Sprintf("doc-%02d", i)))
	}
	return metas
}

func sortedIDs(metas []DocMeta, cmp func(a, b DocMeta) int) []string {
	ms := slices.Clone(metas)
	slices.SortFunc(ms, func(a, b DocMeta) int {
		if c := cmp(a, b); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

func testListSorts(t *testing.T, open func() Store) {
	s := open()
	metas := seedList(t, s, 23)
	want := map[SortKey][]string{
		SortUpdated: sortedIDs(metas, func(a, b DocMeta) int { return b.Updated.Compare(a.Updated) }),
		SortCreated: sortedIDs(metas, func(a, b DocMeta) int { return b.Created.Compare(a.Created) }),
		SortTitle:   sortedIDs(metas, func(a, b DocMeta) int { return strings.Compare(strings.ToLower(a.Title), strings.ToLower(b.Title)) }),
	}
	want[""] = want[SortUpdated]
	for sort, ids := range want {
		for _, limit := range []int{1, 5, 23, 100} {
			if got := listAll(t, s, ListOptions{Sort: sort, Limit: limit}); !slices.Equal(got, ids) {
				t.Fatalf("sort %q limit %d:\n got %v\nwant %v", sort, limit, got, ids)
			}
		}
	}
	docs, next, err := s.ListDocs(context.Background(), ListOptions{Sort: SortCreated, Limit: 2})
	if err != nil || next == "" || len(docs) != 2 || docs[0] != mustGet(t, s, docs[0].ID) {
		t.Fatalf("first page: %+v next %q err %v (want full metadata)", docs, next, err)
	}
}

func testListFilter(t *testing.T, open func() Store) {
	s := open()
	metas := seedList(t, s, 23)
	var reports []DocMeta
	for _, m := range metas {
		if strings.Contains(strings.ToLower(m.Title), "report") {
			reports = append(reports, m)
		}
	}
	if len(reports) < 4 {
		t.Fatalf("seed has only %d reports", len(reports))
	}
	want := sortedIDs(reports, func(a, b DocMeta) int { return b.Created.Compare(a.Created) })
	for _, filter := range []string{"report", "REPORT", "Rep"} {
		if got := listAll(t, s, ListOptions{Sort: SortCreated, Filter: filter, Limit: 2}); !slices.Equal(got, want) {
			t.Fatalf("filter %q:\n got %v\nwant %v", filter, got, want)
		}
	}
	if got := listAll(t, s, ListOptions{Filter: "no such title"}); len(got) != 0 {
		t.Fatalf("filter matched %v", got)
	}
}

func testListCursorStable(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	metas := seedList(t, s, 12)
	all := sortedIDs(metas, func(a, b DocMeta) int { return b.Created.Compare(a.Created) })

	page1, next, err := s.ListDocs(ctx, ListOptions{Sort: SortCreated, Limit: 4})
	if err != nil || len(page1) != 4 {
		t.Fatal(page1, err)
	}
	// A newer document arrives, and the last one returned is deleted:
	// the next page still starts right after page 1.
	mustCreate(t, s, DocMeta{ID: "newest", Created: base.Add(24 * time.Hour)})
	if err := s.DeleteDoc(ctx, page1[3].ID); err != nil {
		t.Fatal(err)
	}
	var rest []string
	opts := ListOptions{Sort: SortCreated, Limit: 4, Cursor: next}
	rest = listAll(t, s, opts)
	if want := all[4:]; !slices.Equal(rest, want) {
		t.Fatalf("after changes, pages continue with %v, want %v", rest, want)
	}

	// Title sort with renames between pages: no document is returned twice
	// unless it moved past the cursor.
	page1, next, err = s.ListDocs(ctx, ListOptions{Sort: SortTitle, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RenameDoc(ctx, page1[0].ID, "zzz last"); err != nil {
		t.Fatal(err)
	}
	rest = listAll(t, s, ListOptions{Sort: SortTitle, Limit: 3, Cursor: next})
	if rest[len(rest)-1] != page1[0].ID {
		t.Fatalf("renamed doc should now be last: %v", rest)
	}
	for _, d := range page1[1:] {
		if slices.Contains(rest, d.ID) {
			t.Fatalf("doc %s seen twice", d.ID)
		}
	}
}

func testListLimits(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	for i := range 501 {
		mustCreate(t, s, DocMeta{ID: fmt.Sprintf("d%03d", i), Created: base.Add(time.Duration(i) * time.Second)})
	}
	docs, next, err := s.ListDocs(ctx, ListOptions{})
	if err != nil || len(docs) != 50 || next == "" {
		t.Fatalf("default limit: %d docs, next %q, %v", len(docs), next, err)
	}
	docs, next, err = s.ListDocs(ctx, ListOptions{Limit: 10_000})
	if err != nil || len(docs) != 500 || next == "" {
		t.Fatalf("capped limit: %d docs, next %q, %v", len(docs), next, err)
	}
	docs, next, err = s.ListDocs(ctx, ListOptions{Limit: 10_000, Cursor: next})
	if err != nil || len(docs) != 1 || next != "" {
		t.Fatalf("last page: %d docs, next %q, %v", len(docs), next, err)
	}

	_, next, _ = s.ListDocs(ctx, ListOptions{Sort: SortTitle, Limit: 1})
	_, _, err = s.ListDocs(ctx, ListOptions{Sort: SortCreated, Cursor: next})
	wantErr(t, "cursor of another sort", err, ErrInvalid)
	_, _, err = s.ListDocs(ctx, ListOptions{Cursor: "!!not a cursor"})
	wantErr(t, "garbage cursor", err, ErrInvalid)
	_, _, err = s.ListDocs(ctx, ListOptions{Sort: "size"})
	wantErr(t, "unknown sort", err, ErrInvalid)
}

func testDeleteDoc(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	for _, id := range []string{"gone", "kept"} {
		mustCreate(t, s, DocMeta{ID: id, Title: "T " + id})
		mustAppend(t, s, Entry{id, upd("u1")}, Entry{id, upd("u2")})
		if err := s.Compact(ctx, id, upd("S"), 1); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateVersion(ctx, Version{ID: "v-" + id, DocID: id, State: upd("V")}); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateShareToken(ctx, ShareToken{ID: "t-" + id, DocID: id, Role: RoleViewer}, "secret-"+id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteDoc(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetDoc(ctx, "gone")
	wantErr(t, "GetDoc deleted", err, ErrNotFound)
	_, err = s.Load(ctx, "gone")
	wantErr(t, "Load deleted", err, ErrNotFound)
	_, err = s.ListVersions(ctx, "gone")
	wantErr(t, "ListVersions deleted", err, ErrNotFound)
	_, err = s.GetVersion(ctx, "gone", "v-gone")
	wantErr(t, "GetVersion deleted", err, ErrNotFound)
	_, err = s.LookupShareToken(ctx, "secret-gone")
	wantErr(t, "LookupShareToken deleted", err, ErrNotFound)
	_, err = s.ListShareTokens(ctx, "gone")
	wantErr(t, "ListShareTokens deleted", err, ErrNotFound)
	_, err = s.Append(ctx, []Entry{{"gone", upd("x")}})
	wantErr(t, "Append deleted", err, ErrNotFound)
	wantErr(t, "DeleteDoc again", s.DeleteDoc(ctx, "gone"), ErrNotFound)
	for _, sort := range []SortKey{SortUpdated, SortCreated, SortTitle} {
		if got := listAll(t, s, ListOptions{Sort: sort}); !slices.Equal(got, []string{"kept"}) {
			t.Fatalf("list %s after delete: %v", sort, got)
		}
	}
	// The other document is untouched.
	st := mustLoad(t, s, "kept")
	if string(st.Snapshot) != "S" || !updatesEqual(st.Updates, [][]byte{upd("u2")}) {
		t.Fatalf("kept doc: %+v", st)
	}
	if _, err := s.LookupShareToken(ctx, "secret-kept"); err != nil {
		t.Fatal(err)
	}
	// The id can be used again and starts empty.
	mustCreate(t, s, DocMeta{ID: "gone"})
	if st := mustLoad(t, s, "gone"); st.Snapshot != nil || len(st.Updates) != 0 {
		t.Fatalf("recreated doc has old content: %+v", st)
	}
	if vs, err := s.ListVersions(ctx, "gone"); err != nil || len(vs) != 0 {
		t.Fatalf("recreated doc has versions: %+v %v", vs, err)
	}
}

func testVersions(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	mustCreate(t, s, DocMeta{ID: "d"})
	for i, name := range []string{"one", "two", "three"} {
		v := Version{ID: fmt.Sprintf("v%d", i), DocID: "d", Name: name, Created: base.Add(time.Duration(i) * time.Hour), State: []byte(strings.Repeat("s", i+1))}
		if err := s.CreateVersion(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.ListVersions(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range list {
		names = append(names, v.Name)
		if v.State != nil || v.DocID != "d" || v.Size == 0 {
			t.Fatalf("listed version %+v (want no State, DocID and Size set)", v)
		}
	}
	if !slices.Equal(names, []string{"three", "two", "one"}) {
		t.Fatalf("versions newest first: %v", names)
	}
	if list[0].Size != 3 || list[2].Size != 1 {
		t.Fatalf("sizes %d %d", list[0].Size, list[2].Size)
	}
	v, err := s.GetVersion(ctx, "d", "v1")
	want := Version{ID: "v1", DocID: "d", Name: "two", Created: base.Add(time.Hour), State: upd("ss"), Size: 2}
	if err != nil || v.ID != want.ID || v.Name != want.Name || v.Created != want.Created || !bytes.Equal(v.State, want.State) || v.Size != 2 {
		t.Fatalf("GetVersion = %+v, %v; want %+v", v, err, want)
	}
	wantErr(t, "duplicate version", s.CreateVersion(ctx, Version{ID: "v1", DocID: "d", State: upd("x")}), ErrExists)
	wantErr(t, "version of missing doc", s.CreateVersion(ctx, Version{ID: "v9", DocID: "nope", State: upd("x")}), ErrNotFound)
	wantErr(t, "version without state", s.CreateVersion(ctx, Version{ID: "v9", DocID: "d"}), ErrInvalid)
	wantErr(t, "version without id", s.CreateVersion(ctx, Version{DocID: "d", State: upd("x")}), ErrInvalid)
	_, err = s.GetVersion(ctx, "d", "v9")
	wantErr(t, "GetVersion missing", err, ErrNotFound)
	_, err = s.ListVersions(ctx, "nope")
	wantErr(t, "ListVersions missing doc", err, ErrNotFound)

	mustCreate(t, s, DocMeta{ID: "empty"})
	if vs, err := s.ListVersions(ctx, "empty"); err != nil || vs == nil || len(vs) != 0 {
		t.Fatalf("no versions: %#v, %v (want an empty, non-nil list)", vs, err)
	}
	before := time.Now().Add(-time.Second)
	if err := s.CreateVersion(ctx, Version{ID: "now", DocID: "empty", State: upd("x")}); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.GetVersion(ctx, "empty", "now"); v.Created.Before(before) {
		t.Fatalf("zero Created was not set to now: %v", v.Created)
	}
}

func testShareTokens(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	mustCreate(t, s, DocMeta{ID: "d"})
	mustCreate(t, s, DocMeta{ID: "other"})
	t1 := ShareToken{ID: "t1", DocID: "d", Role: RoleViewer, Created: base}
	t2 := ShareToken{ID: "t2", DocID: "d", Role: RoleEditor, Created: base.Add(time.Minute), ExpiresAt: base.Add(time.Hour)}
	expired := ShareToken{ID: "t3", DocID: "d", Role: RoleViewer, Created: base.Add(2 * time.Minute), ExpiresAt: base.Add(-time.Hour)}
	t4 := ShareToken{ID: "t4", DocID: "other", Role: RoleEditor, Created: base}
	for i, tok := range []ShareToken{t1, t2, expired, t4} {
		if err := s.CreateShareToken(ctx, tok, fmt.Sprintf("secret-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []ShareToken{t1, t2, expired, t4} {
		got, err := s.LookupShareToken(ctx, fmt.Sprintf("secret-%d", i))
		if err != nil || got != want {
			t.Fatalf("Lookup secret-%d = %+v, %v; want %+v", i, got, err, want)
		}
	}
	_, err := s.LookupShareToken(ctx, "secret-9")
	wantErr(t, "Lookup wrong secret", err, ErrNotFound)
	_, err = s.LookupShareToken(ctx, "")
	wantErr(t, "Lookup empty secret", err, ErrNotFound)
	if strings.Contains(fmt.Sprint(err), "secret") {
		t.Fatalf("error mentions the secret: %v", err)
	}

	list, err := s.ListShareTokens(ctx, "d")
	if err != nil || len(list) != 3 || list[0] != expired || list[1] != t2 || list[2] != t1 {
		t.Fatalf("ListShareTokens = %+v, %v (want t3 t2 t1)", list, err)
	}

	if err := s.RevokeShareToken(ctx, "d", "t2"); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeShareToken(ctx, "d", "t2"); err != nil {
		t.Fatalf("revoking twice: %v", err)
	}
	got, err := s.LookupShareToken(ctx, "secret-1")
	if err != nil || !got.Revoked || got.ID != "t2" {
		t.Fatalf("revoked token looks up as %+v, %v", got, err)
	}
	wantErr(t, "revoke other doc's token", s.RevokeShareToken(ctx, "d", "t4"), ErrNotFound)
	wantErr(t, "revoke missing", s.RevokeShareToken(ctx, "d", "t9"), ErrNotFound)
	wantErr(t, "revoke on missing doc", s.RevokeShareToken(ctx, "nope", "t1"), ErrNotFound)
	if got, _ := s.LookupShareToken(ctx, "secret-3"); got.Revoked {
		t.Fatalf("revoking d/t4 attempt revoked other/t4")
	}

	wantErr(t, "duplicate token id", s.CreateShareToken(ctx, ShareToken{ID: "t1", DocID: "d", Role: RoleViewer}, "fresh"), ErrExists)
	wantErr(t, "duplicate secret", s.CreateShareToken(ctx, ShareToken{ID: "t9", DocID: "d", Role: RoleViewer}, "secret-0"), ErrExists)
	wantErr(t, "bad role", s.CreateShareToken(ctx, ShareToken{ID: "t9", DocID: "d", Role: "owner"}, "fresh"), ErrInvalid)
	wantErr(t, "empty secret", s.CreateShareToken(ctx, ShareToken{ID: "t9", DocID: "d", Role: RoleViewer}, ""), ErrInvalid)
	wantErr(t, "missing doc", s.CreateShareToken(ctx, ShareToken{ID: "t9", DocID: "nope", Role: RoleViewer}, "fresh"), ErrNotFound)
	_, err = s.ListShareTokens(ctx, "nope")
	wantErr(t, "list on missing doc", err, ErrNotFound)
	if list, err := s.ListShareTokens(ctx, "d"); err != nil || len(list) != 3 {
		t.Fatalf("rejected creates changed the list: %+v %v", list, err)
	}
}

func testClosed(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	mustCreate(t, s, DocMeta{ID: "d"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	calls := map[string]error{
		"CreateDoc":        s.CreateDoc(ctx, DocMeta{ID: "x"}),
		"RenameDoc":        s.RenameDoc(ctx, "d", "x"),
		"DeleteDoc":        s.DeleteDoc(ctx, "d"),
		"Compact":          s.Compact(ctx, "d", upd("S"), 0),
		"CreateVersion":    s.CreateVersion(ctx, Version{ID: "v", DocID: "d", State: upd("x")}),
		"CreateShareToken": s.CreateShareToken(ctx, ShareToken{ID: "t", DocID: "d", Role: RoleViewer}, "s"),
		"RevokeShareToken": s.RevokeShareToken(ctx, "d", "t"),
	}
	_, calls["GetDoc"] = s.GetDoc(ctx, "d")
	_, _, calls["ListDocs"] = s.ListDocs(ctx, ListOptions{})
	_, calls["Append"] = s.Append(ctx, []Entry{{"d", upd("x")}})
	_, calls["Load"] = s.Load(ctx, "d")
	_, calls["ListVersions"] = s.ListVersions(ctx, "d")
	_, calls["GetVersion"] = s.GetVersion(ctx, "d", "v")
	_, calls["LookupShareToken"] = s.LookupShareToken(ctx, "s")
	_, calls["ListShareTokens"] = s.ListShareTokens(ctx, "d")
	for name, err := range calls {
		wantErr(t, name+" after Close", err, ErrClosed)
	}
	s = open()
	if _, err := s.GetDoc(ctx, "d"); err != nil {
		t.Fatalf("reopen after Close: %v", err)
	}
}

func testCanceledContext(t *testing.T, open func() Store) {
	s := open()
	mustCreate(t, s, DocMeta{ID: "d"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Append(ctx, []Entry{{"d", upd("x")}})
	wantErr(t, "Append with canceled ctx", err, context.Canceled)
	wantErr(t, "CreateDoc with canceled ctx", s.CreateDoc(ctx, DocMeta{ID: "x"}), context.Canceled)
	if st := mustLoad(t, s, "d"); len(st.Updates) != 0 {
		t.Fatalf("canceled append wrote")
	}
}

// testConcurrentAppends has many goroutines append to many documents at
// once (run it with -race); every acknowledged entry must be found after a
// reopen, at the seq it was given.
func testConcurrentAppends(t *testing.T, open func() Store) {
	const docs, writers, rounds = 8, 16, 25
	s := open()
	for d := range docs {
		mustCreate(t, s, DocMeta{ID: fmt.Sprintf("doc%d", d)})
	}
	type ack struct {
		doc    string
		seq    uint64
		update string
	}
	var (
		mu   sync.Mutex
		acks []ack
		wg   sync.WaitGroup
	)
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				// Each call touches 1..3 documents, several entries each.
				var entries []Entry
				for k := range 1 + (w+r)%3 {
					doc := fmt.Sprintf("doc%d", (w+r+k)%docs)
					for j := range 2 {
						entries = append(entries, Entry{doc, []byte(fmt.Sprintf("w%d-r%d-k%d-j%d", w, r, k, j))})
					}
				}
				if w%4 == 0 && r%5 == 0 {
					// A call naming a missing document fails alone, even
					// when it shares a commit with the others.
					bad := append(slices.Clone(entries), Entry{"ghost", []byte("never")})
					if _, err := s.Append(context.Background(), bad); !errors.Is(err, ErrNotFound) {
						errs <- fmt.Errorf("append with a ghost doc: %v", err)
						return
					}
				}
				seqs, err := s.Append(context.Background(), entries)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for i, e := range entries {
					acks = append(acks, ack{e.DocID, seqs[i], string(e.Update)})
				}
				mu.Unlock()
				if r%10 == 0 { // readers run alongside
					if _, err := s.Load(context.Background(), entries[0].DocID); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open()
	loaded := map[string]Stored{}
	for d := range docs {
		id := fmt.Sprintf("doc%d", d)
		loaded[id] = mustLoad(t, s, id)
	}
	seen := map[string]map[uint64]bool{}
	for _, a := range acks {
		st := loaded[a.doc]
		i := a.seq - st.SnapshotSeq - 1
		if a.seq <= st.SnapshotSeq || i >= uint64(len(st.Updates)) || string(st.Updates[i]) != a.update {
			t.Fatalf("acknowledged %q at %s seq %d is not there after reopen", a.update, a.doc, a.seq)
		}
		if seen[a.doc] == nil {
			seen[a.doc] = map[uint64]bool{}
		}
		if seen[a.doc][a.seq] {
			t.Fatalf("seq %d of %s given twice", a.seq, a.doc)
		}
		seen[a.doc][a.seq] = true
	}
	total := 0
	for id, st := range loaded {
		total += len(st.Updates)
		if uint64(len(st.Updates)) != st.LastSeq || len(seen[id]) != len(st.Updates) {
			t.Fatalf("%s: %d stored, last seq %d, %d acknowledged", id, len(st.Updates), st.LastSeq, len(seen[id]))
		}
	}
	if total != len(acks) {
		t.Fatalf("%d entries stored, %d acknowledged", total, len(acks))
	}
}
