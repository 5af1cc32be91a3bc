package crdt

// Benchmarks on the automerge-paper trace (260k edits). Compare with Yjs and
// ywasm: `make bench-crdt` runs these and testdata/oracle/bench.mjs and
// prints the ratios.

import (
	"runtime"
	"sync"
	"testing"
)

var (
	benchOnce   sync.Once
	benchUpdate []byte
	benchDoc    *Doc
)

// benchAutomerge replays the trace once and keeps the doc and its update.
func benchAutomerge(b *testing.B) (*Doc, []byte) {
	b.Helper()
	tr := loadEditTrace(b, "automerge-paper")
	benchOnce.Do(func() {
		benchDoc = replaySequentialTrace(tr, 1)
		u, err := benchDoc.EncodeStateAsUpdate(nil)
		if err != nil {
			panic(err)
		}
		benchUpdate = u
	})
	if benchDoc.GetText("text").String() != tr.EndContent {
		b.Fatal("replay does not give endContent")
	}
	return benchDoc, benchUpdate
}

// BenchmarkReplayAutomergePaper makes every edit as a local transaction.
func BenchmarkReplayAutomergePaper(b *testing.B) {
	tr := loadEditTrace(b, "automerge-paper")
	b.ReportAllocs()
	for b.Loop() {
		replaySequentialTrace(tr, 1)
	}
}

// BenchmarkApplyAutomergePaper applies the whole document, as one update,
// to an empty doc.
func BenchmarkApplyAutomergePaper(b *testing.B) {
	_, update := benchAutomerge(b)
	b.SetBytes(int64(len(update)))
	b.ReportAllocs()
	for b.Loop() {
		d := NewDoc()
		if err := d.ApplyUpdate(update); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeAutomergePaper encodes the replayed document.
func BenchmarkEncodeAutomergePaper(b *testing.B) {
	d, update := benchAutomerge(b)
	b.SetBytes(int64(len(update)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.EncodeStateAsUpdate(nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadAutomergePaper decodes and loads the stored document and
// reads its text (what a server does when a document is opened), and
// reports the heap the loaded doc holds.
func BenchmarkLoadAutomergePaper(b *testing.B) {
	_, update := benchAutomerge(b)
	tr := loadEditTrace(b, "automerge-paper")
	b.SetBytes(int64(len(update)))
	b.ReportAllocs()
	for b.Loop() {
		d := NewDoc()
		if err := d.ApplyUpdate(update); err != nil {
			b.Fatal(err)
		}
		if d.GetText("text").Len() == 0 {
			b.Fatal("empty document")
		}
	}
	b.StopTimer()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	d := NewDoc()
	if err := d.ApplyUpdate(update); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if d.GetText("text").String() != tr.EndContent {
		b.Fatal("loaded document lost content")
	}
	runtime.KeepAlive(d)
	b.ReportMetric(float64(after.HeapAlloc)-float64(before.HeapAlloc), "heap-bytes")
}
