package main

import (
	"bytes"
	"fmt"
	"math/bits"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// histogram is a lock-free log-linear histogram of durations in
// microseconds: exact below 64 µs, then 32 buckets per power of two (at most
// ~3% error), fixed memory whatever the sample count.
type histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64
	max    atomic.Uint64
}

const (
	histSubBits = 5 // 32 sub-buckets per octave
	histBuckets = (64 - histSubBits + 1) << histSubBits
)

func histBucket(v uint64) int {
	if v < 2<<histSubBits {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1
	return shift<<histSubBits + int(v>>shift)
}

// histLow returns the smallest value that falls in bucket b.
func histLow(b int) uint64 {
	if b < 2<<histSubBits {
		return uint64(b)
	}
	shift := b>>histSubBits - 1
	mant := uint64(b&(1<<histSubBits-1) | 1<<histSubBits)
	return mant << shift
}

// record adds one sample.
func (h *histogram) record(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	v := uint64(us)
	h.counts[histBucket(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
}

// quantile returns the value at quantile q (0..1): the middle of its bucket,
// capped at the maximum seen.
func (h *histogram) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = max(rank, 1)
	var seen uint64
	for b := range h.counts {
		seen += h.counts[b].Load()
		if seen >= rank {
			lo := histLow(b)
			hi := histLow(b + 1)
			mid := lo + (hi-lo)/2
			return time.Duration(min(mid, h.max.Load())) * time.Microsecond
		}
	}
	return time.Duration(h.max.Load()) * time.Microsecond
}

// snapshot copies the bucket counts, to measure an interval later with
// quantileSince.
func (h *histogram) snapshot() []uint64 {
	out := make([]uint64, histBuckets)
	for b := range h.counts {
		out[b] = h.counts[b].Load()
	}
	return out
}

// quantileSince returns quantile q of the samples recorded since prev was
// taken, and how many there were; prev is updated to now.
func (h *histogram) quantileSince(prev []uint64, q float64) (time.Duration, uint64) {
	now := h.snapshot()
	var n uint64
	for b := range now {
		n += now[b] - prev[b]
	}
	var result time.Duration
	if n > 0 {
		rank := max(uint64(q*float64(n)+0.5), 1)
		var seen uint64
		for b := range now {
			seen += now[b] - prev[b]
			if seen >= rank {
				result = time.Duration(histLow(b)+(histLow(b+1)-histLow(b))/2) * time.Microsecond
				break
			}
		}
	}
	copy(prev, now)
	return result, n
}

// latencySummary is a histogram's headline figures in milliseconds.
type latencySummary struct {
	Count  uint64  `json:"count"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P95Ms  float64 `json:"p95_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
}

func (h *histogram) summary() latencySummary {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	n := h.n.Load()
	s := latencySummary{Count: n}
	if n == 0 {
		return s
	}
	s.MeanMs = float64(h.sum.Load()) / float64(n) / 1000
	s.P50Ms = ms(h.quantile(0.50))
	s.P95Ms = ms(h.quantile(0.95))
	s.P99Ms = ms(h.quantile(0.99))
	s.MaxMs = float64(h.max.Load()) / 1000
	return s
}

// procSample is a process's CPU time and memory at one moment.
type procSample struct {
	at         time.Time
	cpuSeconds float64 // user + system
	rssBytes   uint64
	hwmBytes   uint64 // peak RSS
	threads    int
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times; it is 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// sampleProc reads /proc/<pid>/stat and /proc/<pid>/status.
func sampleProc(pid int) (procSample, error) {
	s := procSample{at: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("sample process %d: %w", pid, err)
	}
	// The command name (field 2) may contain spaces: fields are counted
	// after its closing parenthesis, which starts at field 3 (state).
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return s, fmt.Errorf("sample process %d: unreadable /proc stat", pid)
	}
	fields := bytes.Fields(stat[end+1:])
	const utimeField, stimeField = 14 - 3, 15 - 3
	if len(fields) <= stimeField {
		return s, fmt.Errorf("sample process %d: short /proc stat", pid)
	}
	utime, err1 := strconv.ParseUint(string(fields[utimeField]), 10, 64)
	stime, err2 := strconv.ParseUint(string(fields[stimeField]), 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("sample process %d: bad cpu times in /proc stat", pid)
	}
	s.cpuSeconds = float64(utime+stime) / clockTicks
	if err := readStatus(fmt.Sprintf("/proc/%d/status", pid), &s); err != nil {
		return s, fmt.Errorf("sample process %d: %w", pid, err)
	}
	return s, nil
}

func readStatus(path string, s *procSample) error {
	status, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for line := range bytes.SplitSeq(status, []byte("\n")) {
		key, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		f := bytes.Fields(val)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			continue
		}
		switch string(key) {
		case "VmRSS":
			s.rssBytes = n * 1024
		case "VmHWM":
			s.hwmBytes = n * 1024
		case "Threads":
			s.threads = int(n)
		}
	}
	return nil
}

// sampleSelf measures this process: CPU from getrusage, memory from /proc.
func sampleSelf() procSample {
	s := procSample{at: time.Now()}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		s.cpuSeconds = tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
	}
	_ = readStatus("/proc/self/status", &s)
	return s
}

func tvSeconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}

// raiseFileLimit lifts the soft RLIMIT_NOFILE to the hard limit; every
// connection is a file descriptor.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("read RLIMIT_NOFILE: %w", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, fmt.Errorf("raise RLIMIT_NOFILE to %d: %w", lim.Max, err)
		}
	}
	return lim.Cur, nil
}
