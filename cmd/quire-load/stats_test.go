package main

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	prev := -1
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 1 << 20, 1<<40 + 12345, math.MaxUint64} {
		b := histBucket(v)
		if b < prev || b >= histBuckets {
			t.Fatalf("value %d: bucket %d before the previous value's or out of range", v, b)
		}
		prev = b
		lo := histLow(b)
		if lo > v || (b+1 < histBuckets && v >= histLow(b+1) && histLow(b+1) != 0) {
			t.Fatalf("value %d: bucket %d spans [%d, %d)", v, b, lo, histLow(b+1))
		}
	}
}

func TestHistogramQuantilesWithinBucketError(t *testing.T) {
	var h histogram
	rng := rand.New(rand.NewPCG(1, 2))
	samples := make([]float64, 50000)
	for i := range samples {
		us := math.Exp(rng.NormFloat64()*1.5 + 7) // log-normal around 1 ms
		samples[i] = math.Floor(us)
		h.record(time.Duration(samples[i]) * time.Microsecond)
	}
	slices.Sort(samples)
	for _, q := range []float64{0.5, 0.95, 0.99} {
		exact := samples[int(q*float64(len(samples)))-1]
		got := float64(h.quantile(q).Microseconds())
		if math.Abs(got-exact) > exact/32+1 {
			t.Errorf("q%.2f: got %.0f µs, exact %.0f µs", q, got, exact)
		}
	}
	if s := h.summary(); s.Count != uint64(len(samples)) || s.MaxMs != samples[len(samples)-1]/1000 {
		t.Errorf("summary %+v: want count %d max %.3f", s, len(samples), samples[len(samples)-1]/1000)
	}
}

func TestSampleProcReadsThisProcess(t *testing.T) {
	s, err := sampleProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.rssBytes == 0 || s.hwmBytes < s.rssBytes || s.threads == 0 {
		t.Fatalf("implausible sample %+v", s)
	}
	if _, err := sampleProc(1 << 30); err == nil {
		t.Fatal("sampling a process that does not exist succeeded")
	}
}

func TestCheckURLAcceptsOnlyLoopback(t *testing.T) {
	for _, ok := range []string{"ws://127.0.0.1:8080/ws", "ws://localhost:1/ws", "ws://[::1]:80/", "ws://127.1.2.3:9/x"} {
		if _, err := checkURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"ws://10.0.0.1:8080/ws", "ws://example.com/ws", "wss://127.0.0.1/ws", "http://127.0.0.1/ws", "ws://0.0.0.0:80/", "ws://127.0.0.1.example.com/"} {
		if _, err := checkURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestHistogramInterval(t *testing.T) {
	var h histogram
	for range 100 {
		h.record(time.Millisecond)
	}
	prev := h.snapshot()
	for range 50 {
		h.record(10 * time.Millisecond)
	}
	got, n := h.quantileSince(prev, 0.5)
	if n != 50 || got < 9700*time.Microsecond || got > 10300*time.Microsecond {
		t.Fatalf("interval p50 %v over %d samples, want ~10ms over 50", got, n)
	}
	if _, n := h.quantileSince(prev, 0.5); n != 0 {
		t.Fatalf("second interval has %d samples, want 0", n)
	}
}
