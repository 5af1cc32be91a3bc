package storage

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func TestBoltStore(t *testing.T) { testStore(t, newBoltForTest) }

// newBoltForTest gives each test its own file (in a directory OpenBolt
// must create) and, after the test, reopens it and runs the full check.
func newBoltForTest(t *testing.T) func() Store {
	path := filepath.Join(t.TempDir(), "data", "quire.db")
	var opened []*BoltStore
	t.Cleanup(func() {
		for _, s := range opened {
			if err := s.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		}
		checkBoltFile(t, path)
	})
	return func() Store {
		s := openBoltT(t, path)
		opened = append(opened, s)
		return s
	}
}

func openBoltT(t testing.TB, path string) *BoltStore {
	t.Helper()
	s, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkBoltFile runs bbolt's consistency check and Quire's invariants on
// a closed file.
func checkBoltFile(t testing.TB, path string) {
	t.Helper()
	s, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Errorf("reopen for check: %v", err)
		return
	}
	defer s.Close()
	if err := s.Check(); err != nil {
		t.Errorf("consistency check failed: %v", err)
	}
}

// rawBolt runs fn in a write transaction on the file with bbolt directly.
func rawBolt(t *testing.T, path string, fn func(tx *bbolt.Tx) error) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestBoltLockTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quire.db")
	first := openBoltT(t, path)
	defer first.Close()

	const timeout = 200 * time.Millisecond
	start := time.Now()
	second, err := OpenBolt(path, BoltOptions{LockTimeout: timeout})
	elapsed := time.Since(start)
	if err == nil {
		second.Close()
		t.Fatal("second open of a held file succeeded")
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "in use by another quire process") || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %q: want ErrLocked naming the file and saying why", err)
	}
	// Not a speed target: the point is that it gives up instead of hanging.
	if elapsed > 20*timeout {
		t.Fatalf("gave up after %v, want about %v", elapsed, timeout)
	}
	// Once the holder closes, the file opens.
	first.Close()
	s := openBoltT(t, path)
	s.Close()
	checkBoltFile(t, path)
}

const holdChildEnv = "QUIRE_STORAGE_HOLD_CHILD"

// TestBoltLockedByAnotherProcess: the real case, another quire process
// holding the file.
func TestBoltLockedByAnotherProcess(t *testing.T) {
	if path := os.Getenv(holdChildEnv); path != "" {
		s, err := OpenBolt(path, BoltOptions{})
		if err != nil {
			fmt.Fprintln(os.Stderr, "holder open:", err)
			os.Exit(2)
		}
		defer s.Close()
		fmt.Println("holding")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
		return
	}
	path := filepath.Join(t.TempDir(), "quire.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestBoltLockedByAnotherProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), holdChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "holding\n" {
		t.Fatalf("holder said %q, %v", line, err)
	}
	_, err = OpenBolt(path, BoltOptions{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "in use by another quire process") {
		t.Fatalf("open while another process holds the file: %v", err)
	}
	stdin.Close() // the holder closes the store and exits
	if err := cmd.Wait(); err != nil {
		t.Fatalf("holder: %v", err)
	}
	s := openBoltT(t, path)
	s.Close()
	checkBoltFile(t, path)
}

func TestBoltDeleteDocLeavesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quire.db")
	s := openBoltT(t, path)
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		mustCreate(t, s, DocMeta{ID: id, Title: "Title " + id})
		mustAppend(t, s, Entry{id, upd("u1")}, Entry{id, upd("u2")}, Entry{id, upd("u3")})
		if err := s.Compact(ctx, id, upd("S"), 2); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if err := s.CreateVersion(ctx, Version{ID: fmt.Sprint("v", i), DocID: id, State: upd("V")}); err != nil {
				t.Fatal(err)
			}
			if err := s.CreateShareToken(ctx, ShareToken{ID: fmt.Sprint("t", i), DocID: id, Role: RoleViewer}, id+fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteDoc(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rawBolt(t, path, func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if k, _ := tx.Bucket(name).Cursor().First(); k != nil {
				t.Errorf("bucket %s still holds %q after every doc was deleted", name, k)
			}
		}
		return nil
	})
	checkBoltFile(t, path)
}

// The check must catch what it claims to: damage the file behind the
// store's back and expect a precise complaint.
func TestBoltCheckFindsDamage(t *testing.T) {
	cases := map[string]struct {
		damage func(tx *bbolt.Tx) error
		want   string
	}{
		"stray index entry": {
			func(tx *bbolt.Tx) error { return tx.Bucket(bucketByTitle).Put([]byte("zz\x00ghost"), []byte("ghost")) },
			"stray entry",
		},
		"log gap": {
			func(tx *bbolt.Tx) error { return tx.Bucket(bucketLogs).Delete(logKey(logPrefix("d"), 1)) },
			"must be contiguous",
		},
		"orphan log entry": {
			func(tx *bbolt.Tx) error { return tx.Bucket(bucketLogs).Put(logKey(logPrefix("ghost"), 1), []byte("u")) },
			"of a missing doc",
		},
		"orphan snapshot": {
			func(tx *bbolt.Tx) error { return tx.Bucket(bucketSnapshots).Put([]byte("ghost"), []byte("S")) },
			`missing doc "ghost"`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "quire.db")
			s := openBoltT(t, path)
			mustCreate(t, s, DocMeta{ID: "d"})
			mustAppend(t, s, Entry{"d", upd("u1")}, Entry{"d", upd("u2")})
			s.Close()
			rawBolt(t, path, tc.damage)
			s = openBoltT(t, path)
			defer s.Close()
			err := s.Check()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check = %v, want a complaint containing %q", err, tc.want)
			}
		})
	}
}

func TestBoltRejectsNewerFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quire.db")
	openBoltT(t, path).Close()
	rawBolt(t, path, func(tx *bbolt.Tx) error { return tx.Bucket(bucketQuire).Put(keyFormat, []byte{formatVersion + 1}) })
	_, err := OpenBolt(path, BoltOptions{})
	if err == nil || !strings.Contains(err.Error(), "newer than this quire") {
		t.Fatalf("OpenBolt on a newer format: %v", err)
	}
}

// TestBoltGroupCommit holds the first commit until more calls are queued
// behind it, then checks they were committed together in one transaction,
// each with its own result (a call naming a missing document fails alone).
func TestBoltGroupCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "quire.db")
	s := openBoltT(t, path)
	defer checkBoltFile(t, path)
	defer s.Close()
	for d := range 4 {
		mustCreate(t, s, DocMeta{ID: fmt.Sprint("doc", d)})
	}
	started, release := make(chan struct{}), make(chan struct{})
	var groups []int
	s.beforeCommit = func(n int) { // runs in the leader only, one at a time
		groups = append(groups, n)
		if len(groups) == 1 {
			close(started)
			<-release
		}
	}
	type result struct {
		seqs []uint64
		err  error
	}
	const followers = 10
	results := make([]chan result, followers+1)
	appendAsync := func(i int, entries []Entry) {
		results[i] = make(chan result, 1)
		go func() {
			seqs, err := s.Append(context.Background(), entries)
			results[i] <- result{seqs, err}
		}()
	}
	appendAsync(0, []Entry{{"doc0", upd("first")}})
	<-started
	for i := 1; i <= followers; i++ {
		entries := []Entry{{fmt.Sprint("doc", i%4), fmt.Appendf(nil, "f%d", i)}}
		if i == 5 {
			entries = append(entries, Entry{"ghost", upd("x")})
		}
		appendAsync(i, entries)
		waitFor(t, func() bool { // queue them in a known order
			s.appendMu.Lock()
			defer s.appendMu.Unlock()
			return len(s.appendQueue) == i+1
		})
	}
	close(release)
	for i, ch := range results {
		r := <-ch
		if i == 5 {
			wantErr(t, "follower naming a ghost", r.err, ErrNotFound)
		} else if r.err != nil || len(r.seqs) != 1 {
			t.Fatalf("call %d: %v %v", i, r.seqs, r.err)
		}
	}
	if len(groups) != 2 || groups[0] != 1 || groups[1] != followers {
		t.Fatalf("commit groups %v, want [1 %d]", groups, followers)
	}
	st := s.Stats()
	if st.AppendCalls != followers+1 || st.AppendCommits != 2 || st.AppendedEntries != followers || st.FileSize == 0 {
		t.Fatalf("stats %+v", st)
	}
	// Seqs follow queue order: doc1 got f1, then f5 failed, then f9.
	if got := mustLoad(t, s, "doc1"); !updatesEqual(got.Updates, [][]byte{upd("f1"), upd("f9")}) {
		t.Fatalf("doc1 log %q", got.Updates)
	}
}

// waitFor polls cond (no fixed sleeps) and fails after a generous deadline.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

const crashChildEnv = "QUIRE_STORAGE_CRASH_CHILD"

// TestBoltCrashSafety kills a writer with SIGKILL in the middle of its
// work, several times over the same file. Every append the writer saw
// acknowledged must be there afterwards, and the file must pass the check.
// The writer (this test binary, re-executed) also compacts as it goes, so
// a kill can land in any kind of transaction.
func TestBoltCrashSafety(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	const docs, rounds, acksPerRound = 4, 3, 150
	path := filepath.Join(t.TempDir(), "quire.db")
	s := openBoltT(t, path)
	for d := range docs {
		mustCreate(t, s, DocMeta{ID: fmt.Sprint("doc", d)})
	}
	s.Close()

	acked := map[string]map[uint64]string{} // doc → seq → update
	for round := range rounds {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBoltCrashSafety$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path, fmt.Sprint("QUIRE_CRASH_ROUND=", round))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		n := 0
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 4 || f[0] != "ack" {
				continue // test framework chatter
			}
			seq, err := strconv.ParseUint(f[2], 10, 64)
			if err != nil {
				t.Fatalf("bad ack line %q", sc.Text())
			}
			if acked[f[1]] == nil {
				acked[f[1]] = map[uint64]string{}
			}
			acked[f[1]][seq] = f[3]
			if n++; n == acksPerRound {
				if err := cmd.Process.Kill(); err != nil { // SIGKILL
					t.Fatal(err)
				}
			}
		}
		err = cmd.Wait()
		if n < acksPerRound {
			t.Fatalf("round %d: writer stopped after %d acks: %v", round, n, err)
		}
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys() == nil || !strings.Contains(exit.String(), "killed") {
			t.Fatalf("round %d: writer was not killed: %v", round, err)
		}

		checkBoltFile(t, path)
		s := openBoltT(t, path)
		total := 0
		for doc, seqs := range acked {
			all := fullLog(t, s, doc)
			for seq, u := range seqs {
				if seq == 0 || seq > uint64(len(all)) || all[seq-1] != u {
					t.Fatalf("round %d: acknowledged %s seq %d (%s) lost after SIGKILL", round, doc, seq, u)
				}
			}
			total += len(seqs)
		}
		s.Close()
		t.Logf("round %d: %d acknowledged entries in total, all present", round, total)
	}
}

// fullLog rebuilds a crash-test document's every update: the child's
// snapshots are the updates they cover, joined by commas.
func fullLog(t *testing.T, s Store, doc string) []string {
	st := mustLoad(t, s, doc)
	var all []string
	if st.Snapshot != nil {
		all = strings.Split(string(st.Snapshot), ",")
	}
	if uint64(len(all)) != st.SnapshotSeq {
		t.Fatalf("%s: snapshot holds %d updates, covers seq %d", doc, len(all), st.SnapshotSeq)
	}
	for _, u := range st.Updates {
		all = append(all, string(u))
	}
	if uint64(len(all)) != st.LastSeq {
		t.Fatalf("%s: %d updates, last seq %d", doc, len(all), st.LastSeq)
	}
	return all
}

// crashChild appends forever (until killed), printing each acknowledged
// entry, and now and then compacts a document into a snapshot.
func crashChild(path string) {
	s, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	ctx := context.Background()
	round := os.Getenv("QUIRE_CRASH_ROUND")
	var counter atomic.Int64
	for i := 0; ; i++ {
		var entries []Entry
		for k := range 1 + i%3 {
			doc := fmt.Sprint("doc", (i+k)%4)
			entries = append(entries, Entry{doc, fmt.Appendf(nil, "r%s-%d", round, counter.Add(1))})
		}
		seqs, err := s.Append(ctx, entries)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child append:", err)
			os.Exit(2)
		}
		var b strings.Builder
		for j, e := range entries {
			fmt.Fprintf(&b, "ack %s %d %s\n", e.DocID, seqs[j], e.Update)
		}
		os.Stdout.WriteString(b.String())
		if i%7 == 6 {
			doc := fmt.Sprint("doc", i%4)
			st, err := s.Load(ctx, doc)
			if err != nil {
				fmt.Fprintln(os.Stderr, "child load:", err)
				os.Exit(2)
			}
			parts := []string{}
			if st.Snapshot != nil {
				parts = append(parts, string(st.Snapshot))
			}
			for _, u := range st.Updates {
				parts = append(parts, string(u))
			}
			if err := s.Compact(ctx, doc, []byte(strings.Join(parts, ",")), st.LastSeq); err != nil {
				fmt.Fprintln(os.Stderr, "child compact:", err)
				os.Exit(2)
			}
		}
	}
}

// ---- benchmarks (real fsync: the cost a caller pays) ----

func benchStore(b *testing.B, docs int) *BoltStore {
	b.Helper()
	s := openBoltT(b, filepath.Join(b.TempDir(), "quire.db"))
	b.Cleanup(func() { s.Close() })
	for d := range docs {
		if err := s.CreateDoc(context.Background(), DocMeta{ID: fmt.Sprint("doc", d)}); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// A typical keystroke update is a few dozen bytes.
var benchUpdate = []byte(strings.Repeat("u", 60))

// BenchmarkAppend compares one entry per call with 64 entries (64
// documents) per call: the committer's group commit pays one fsync for all.
func BenchmarkAppend(b *testing.B) {
	for _, per := range []int{1, 64} {
		b.Run(fmt.Sprintf("entries=%d", per), func(b *testing.B) {
			const docs = 64
			s := benchStore(b, docs)
			entries := make([]Entry, per)
			i := 0
			stats := s.db.Stats()
			writesBefore := stats.TxStats.GetWrite()
			for b.Loop() {
				for j := range entries {
					entries[j] = Entry{fmt.Sprint("doc", i%docs), benchUpdate}
					i++
				}
				if _, err := s.Append(context.Background(), entries); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "entries/s")
			// Page writes per call: what the fsync has to flush, free of timing noise.
			stats = s.db.Stats()
			b.ReportMetric(float64(stats.TxStats.GetWrite()-writesBefore)/float64(b.N), "pagewrites/op")
		})
	}
}

// BenchmarkAppendConcurrent: 1-entry calls from 32 goroutines; the store
// coalesces calls in flight into shared commits.
func BenchmarkAppendConcurrent(b *testing.B) {
	const docs = 64
	s := benchStore(b, docs)
	var n atomic.Int64
	b.SetParallelism(16) // × GOMAXPROCS goroutines
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			doc := fmt.Sprint("doc", n.Add(1)%docs)
			if _, err := s.Append(context.Background(), []Entry{{doc, benchUpdate}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "entries/s")
	st := s.Stats()
	b.ReportMetric(float64(st.AppendCalls)/float64(st.AppendCommits), "calls/commit")
}

// BenchmarkLoad reads a document with a 64 KiB snapshot and 1,000 log entries.
func BenchmarkLoad(b *testing.B) {
	s := benchStore(b, 1)
	ctx := context.Background()
	if _, err := s.Append(ctx, []Entry{{"doc0", benchUpdate}}); err != nil {
		b.Fatal(err)
	}
	if err := s.Compact(ctx, "doc0", make([]byte, 64<<10), 1); err != nil {
		b.Fatal(err)
	}
	entries := make([]Entry, 1000)
	for i := range entries {
		entries[i] = Entry{"doc0", benchUpdate}
	}
	if _, err := s.Append(ctx, entries); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		st, err := s.Load(ctx, "doc0")
		if err != nil || len(st.Updates) != 1000 {
			b.Fatal(err, len(st.Updates))
		}
	}
}

// BenchmarkListDocs pages through 10,000 documents: a page costs its own
// size (index seek), not the number of documents.
func BenchmarkListDocs(b *testing.B) {
	const docs = 10_000
	s, err := OpenBolt(filepath.Join(b.TempDir(), "quire.db"), BoltOptions{NoSync: true}) // setup speed only
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	for d := range docs {
		title := fmt.Sprintf("Meeting notes %d", d)
		if d%1000 == 0 {
			title = fmt.Sprintf("Quarterly report %d", d)
		}
		if err := s.CreateDoc(ctx, DocMeta{ID: fmt.Sprintf("doc%05d", d), Title: title, Created: base.Add(time.Duration(d) * time.Second)}); err != nil {
			b.Fatal(err)
		}
	}
	_, mid, err := s.ListDocs(ctx, ListOptions{Sort: SortTitle, Limit: docs / 2})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		opts ListOptions
		want int
	}{
		{"first-page", ListOptions{Sort: SortUpdated}, 50},
		{"middle-page-by-title", ListOptions{Sort: SortTitle, Cursor: mid}, 50},
		{"filter-rare-title", ListOptions{Sort: SortCreated, Filter: "QUARTERLY"}, 10},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				page, _, err := s.ListDocs(ctx, bc.opts)
				if err != nil || len(page) != bc.want {
					b.Fatal(err, len(page))
				}
			}
		})
	}
}

// TestAppendMovesUpdatedToTheSecond: appends within updatedResolution of
// the recorded Updated leave it (and the updated index) alone; a later
// one moves both, and ListDocs by updated follows.
func TestAppendMovesUpdatedToTheSecond(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "quire.db")
	s, err := OpenBolt(path, BoltOptions{NoSync: true, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		checkBoltFile(t, path)
	}()
	mustCreate(t, s, DocMeta{ID: "a"})
	now = now.Add(time.Minute)
	mustCreate(t, s, DocMeta{ID: "b"})
	order := func() string {
		metas, _, err := s.ListDocs(context.Background(), ListOptions{Sort: SortUpdated})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range metas {
			ids = append(ids, m.ID)
		}
		return strings.Join(ids, ",")
	}
	if got := order(); got != "b,a" {
		t.Fatalf("order %s, want b,a", got)
	}
	now = now.Add(time.Minute)
	mustAppend(t, s, Entry{"a", upd("1")})
	created := now
	if got := mustGet(t, s, "a").Updated; !got.Equal(created) {
		t.Fatalf("Updated %v after the first append, want %v", got, created)
	}
	now = now.Add(updatedResolution - time.Millisecond)
	mustAppend(t, s, Entry{"a", upd("2")})
	if got := mustGet(t, s, "a").Updated; !got.Equal(created) {
		t.Fatalf("Updated moved to %v within the resolution", got)
	}
	now = now.Add(time.Millisecond)
	mustAppend(t, s, Entry{"b", upd("3")}, Entry{"a", upd("4")})
	if got := mustGet(t, s, "a").Updated; !got.Equal(now) {
		t.Fatalf("Updated %v after a second, want %v", got, now)
	}
	if got := order(); got != "a,b" { // same time: by id
		t.Fatalf("order %s after both moved, want a,b", got)
	}
	now = now.Add(time.Hour)
	mustAppend(t, s, Entry{"b", upd("5")})
	if got := order(); got != "b,a" {
		t.Fatalf("order %s after b's append, want b,a", got)
	}
}
