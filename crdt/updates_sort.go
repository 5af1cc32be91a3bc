package crdt

// jsSort sorts a in place making exactly the comparisons V8's
// Array.prototype.sort (TimSort, third_party/v8/builtins/array-sort.tq) makes,
// in the same order and with the same argument order.
//
// Yjs' mergeUpdates sorts its struct readers with a comparator that is not
// consistent (a GC and an item at the same id each compare as smaller than
// the other), so the order it ends up with, and therefore the merged bytes,
// depend on V8's algorithm. Any other stable sort gives different bytes.
func jsSort[T any](a []T, cmp func(x, y T) int) {
	n := len(a)
	if n < 2 {
		return
	}
	s := &jsSortState[T]{a: a, cmp: cmp, minGallop: jsMinGallop}
	low, remaining := 0, n
	minRun := jsMinRunLength(n)
	for remaining != 0 {
		run := s.countAndMakeRun(low, low+remaining)
		if run < minRun {
			forced := min(minRun, remaining)
			s.binaryInsertionSort(low, low+run, low+forced)
			run = forced
		}
		s.runs = append(s.runs, jsRun{low, run})
		s.mergeCollapse()
		low += run
		remaining -= run
	}
	s.mergeForceCollapse()
}

const jsMinGallop = 7

type jsRun struct{ base, length int }

type jsSortState[T any] struct {
	a         []T
	tmp       []T
	cmp       func(x, y T) int
	minGallop int
	runs      []jsRun
}

func jsMinRunLength(n int) int {
	r := 0
	for n >= 64 {
		r |= n & 1
		n >>= 1
	}
	return n + r
}

func (s *jsSortState[T]) binaryInsertionSort(low, start, high int) {
	if low == start {
		start++
	}
	for ; start < high; start++ {
		left, right := low, start
		pivot := s.a[start]
		for left < right {
			mid := left + (right-left)>>1
			if s.cmp(pivot, s.a[mid]) < 0 {
				right = mid
			} else {
				left = mid + 1
			}
		}
		copy(s.a[left+1:start+1], s.a[left:start])
		s.a[left] = pivot
	}
}

func (s *jsSortState[T]) countAndMakeRun(lowArg, high int) int {
	low := lowArg + 1
	if low == high {
		return 1
	}
	run := 2
	descending := s.cmp(s.a[low], s.a[low-1]) < 0
	prev := s.a[low]
	for i := low + 1; i < high; i++ {
		cur := s.a[i]
		order := s.cmp(cur, prev)
		if descending {
			if order >= 0 {
				break
			}
		} else if order < 0 {
			break
		}
		prev = cur
		run++
	}
	if descending {
		for i, j := lowArg, lowArg+run-1; i < j; i, j = i+1, j-1 {
			s.a[i], s.a[j] = s.a[j], s.a[i]
		}
	}
	return run
}

func (s *jsSortState[T]) runInvariantEstablished(n int) bool {
	if n < 2 {
		return true
	}
	return s.runs[n-2].length > s.runs[n-1].length+s.runs[n].length
}

func (s *jsSortState[T]) mergeCollapse() {
	for len(s.runs) > 1 {
		n := len(s.runs) - 2
		if !s.runInvariantEstablished(n+1) || !s.runInvariantEstablished(n) {
			if s.runs[n-1].length < s.runs[n+1].length {
				n--
			}
			s.mergeAt(n)
		} else if s.runs[n].length <= s.runs[n+1].length {
			s.mergeAt(n)
		} else {
			break
		}
	}
}

func (s *jsSortState[T]) mergeForceCollapse() {
	for len(s.runs) > 1 {
		n := len(s.runs) - 2
		if n > 0 && s.runs[n-1].length < s.runs[n+1].length {
			n--
		}
		s.mergeAt(n)
	}
}

func (s *jsSortState[T]) mergeAt(i int) {
	baseA, lengthA := s.runs[i].base, s.runs[i].length
	baseB, lengthB := s.runs[i+1].base, s.runs[i+1].length
	s.runs[i].length = lengthA + lengthB
	s.runs = append(s.runs[:i+1], s.runs[i+2:]...)

	k := s.gallopRight(s.a, s.a[baseB], baseA, lengthA, 0)
	baseA += k
	lengthA -= k
	if lengthA == 0 {
		return
	}
	lengthB = s.gallopLeft(s.a, s.a[baseA+lengthA-1], baseB, lengthB, lengthB-1)
	if lengthB == 0 {
		return
	}
	if lengthA <= lengthB {
		s.mergeLow(baseA, lengthA, baseB, lengthB)
	} else {
		s.mergeHigh(baseA, lengthA, baseB, lengthB)
	}
}

// gallopLeft returns the offset in [0, length] where key belongs in
// arr[base:base+length], left of equal elements.
func (s *jsSortState[T]) gallopLeft(arr []T, key T, base, length, hint int) int {
	lastOfs, ofs := 0, 1
	if s.cmp(arr[base+hint], key) < 0 {
		maxOfs := length - hint
		for ofs < maxOfs {
			if s.cmp(arr[base+hint+ofs], key) >= 0 {
				break
			}
			lastOfs = ofs
			ofs = ofs<<1 + 1
		}
		ofs = min(ofs, maxOfs)
		lastOfs += hint
		ofs += hint
	} else {
		maxOfs := hint + 1
		for ofs < maxOfs {
			if s.cmp(arr[base+hint-ofs], key) < 0 {
				break
			}
			lastOfs = ofs
			ofs = ofs<<1 + 1
		}
		ofs = min(ofs, maxOfs)
		lastOfs, ofs = hint-ofs, hint-lastOfs
	}
	lastOfs++
	for lastOfs < ofs {
		m := lastOfs + (ofs-lastOfs)>>1
		if s.cmp(arr[base+m], key) < 0 {
			lastOfs = m + 1
		} else {
			ofs = m
		}
	}
	return ofs
}

// gallopRight is gallopLeft placing key right of equal elements.
func (s *jsSortState[T]) gallopRight(arr []T, key T, base, length, hint int) int {
	lastOfs, ofs := 0, 1
	if s.cmp(key, arr[base+hint]) < 0 {
		maxOfs := hint + 1
		for ofs < maxOfs {
			if s.cmp(key, arr[base+hint-ofs]) >= 0 {
				break
			}
			lastOfs = ofs
			ofs = ofs<<1 + 1
		}
		ofs = min(ofs, maxOfs)
		lastOfs, ofs = hint-ofs, hint-lastOfs
	} else {
		maxOfs := length - hint
		for ofs < maxOfs {
			if s.cmp(key, arr[base+hint+ofs]) < 0 {
				break
			}
			lastOfs = ofs
			ofs = ofs<<1 + 1
		}
		ofs = min(ofs, maxOfs)
		lastOfs += hint
		ofs += hint
	}
	lastOfs++
	for lastOfs < ofs {
		m := lastOfs + (ofs-lastOfs)>>1
		if s.cmp(key, arr[base+m]) < 0 {
			ofs = m
		} else {
			lastOfs = m + 1
		}
	}
	return ofs
}

func (s *jsSortState[T]) tempOf(n int) []T {
	if cap(s.tmp) < n {
		s.tmp = make([]T, max(n, 32))
	}
	return s.tmp[:cap(s.tmp)]
}

func (s *jsSortState[T]) mergeLow(baseA, lengthA, baseB, lengthB int) {
	a := s.a
	tmp := s.tempOf(lengthA)
	copy(tmp, a[baseA:baseA+lengthA])
	dest, cursorTemp, cursorB := baseA, 0, baseB
	a[dest] = a[cursorB]
	dest++
	cursorB++

	lengthB--
	if lengthB == 0 {
		goto succeed
	}
	if lengthA == 1 {
		goto copyB
	}
	for {
		winsA, winsB := 0, 0
		for {
			if s.cmp(a[cursorB], tmp[cursorTemp]) < 0 {
				a[dest] = a[cursorB]
				dest++
				cursorB++
				winsB++
				lengthB--
				winsA = 0
				if lengthB == 0 {
					goto succeed
				}
				if winsB >= s.minGallop {
					break
				}
			} else {
				a[dest] = tmp[cursorTemp]
				dest++
				cursorTemp++
				winsA++
				lengthA--
				winsB = 0
				if lengthA == 1 {
					goto copyB
				}
				if winsA >= s.minGallop {
					break
				}
			}
		}
		s.minGallop++
		for first := true; first || winsA >= jsMinGallop || winsB >= jsMinGallop; first = false {
			s.minGallop = max(1, s.minGallop-1)
			winsA = s.gallopRight(tmp, a[cursorB], cursorTemp, lengthA, 0)
			if winsA > 0 {
				copy(a[dest:dest+winsA], tmp[cursorTemp:cursorTemp+winsA])
				dest += winsA
				cursorTemp += winsA
				lengthA -= winsA
				if lengthA == 1 {
					goto copyB
				}
				if lengthA == 0 {
					goto succeed
				}
			}
			a[dest] = a[cursorB]
			dest++
			cursorB++
			lengthB--
			if lengthB == 0 {
				goto succeed
			}
			winsB = s.gallopLeft(a, tmp[cursorTemp], cursorB, lengthB, 0)
			if winsB > 0 {
				copy(a[dest:dest+winsB], a[cursorB:cursorB+winsB])
				dest += winsB
				cursorB += winsB
				lengthB -= winsB
				if lengthB == 0 {
					goto succeed
				}
			}
			a[dest] = tmp[cursorTemp]
			dest++
			cursorTemp++
			lengthA--
			if lengthA == 1 {
				goto copyB
			}
		}
		s.minGallop++
	}
succeed:
	if lengthA > 0 {
		copy(a[dest:dest+lengthA], tmp[cursorTemp:cursorTemp+lengthA])
	}
	return
copyB:
	copy(a[dest:dest+lengthB], a[cursorB:cursorB+lengthB])
	a[dest+lengthB] = tmp[cursorTemp]
}

func (s *jsSortState[T]) mergeHigh(baseA, lengthA, baseB, lengthB int) {
	a := s.a
	tmp := s.tempOf(lengthB)
	copy(tmp, a[baseB:baseB+lengthB])
	dest, cursorTemp, cursorA := baseB+lengthB-1, lengthB-1, baseA+lengthA-1
	a[dest] = a[cursorA]
	dest--
	cursorA--

	lengthA--
	if lengthA == 0 {
		goto succeed
	}
	if lengthB == 1 {
		goto copyA
	}
	for {
		winsA, winsB := 0, 0
		for {
			if s.cmp(tmp[cursorTemp], a[cursorA]) < 0 {
				a[dest] = a[cursorA]
				dest--
				cursorA--
				winsA++
				lengthA--
				winsB = 0
				if lengthA == 0 {
					goto succeed
				}
				if winsA >= s.minGallop {
					break
				}
			} else {
				a[dest] = tmp[cursorTemp]
				dest--
				cursorTemp--
				winsB++
				lengthB--
				winsA = 0
				if lengthB == 1 {
					goto copyA
				}
				if winsB >= s.minGallop {
					break
				}
			}
		}
		s.minGallop++
		for first := true; first || winsA >= jsMinGallop || winsB >= jsMinGallop; first = false {
			s.minGallop = max(1, s.minGallop-1)
			k := s.gallopRight(a, tmp[cursorTemp], baseA, lengthA, lengthA-1)
			winsA = lengthA - k
			if winsA > 0 {
				dest -= winsA
				cursorA -= winsA
				copy(a[dest+1:dest+1+winsA], a[cursorA+1:cursorA+1+winsA])
				lengthA -= winsA
				if lengthA == 0 {
					goto succeed
				}
			}
			a[dest] = tmp[cursorTemp]
			dest--
			cursorTemp--
			lengthB--
			if lengthB == 1 {
				goto copyA
			}
			k = s.gallopLeft(tmp, a[cursorA], 0, lengthB, lengthB-1)
			winsB = lengthB - k
			if winsB > 0 {
				dest -= winsB
				cursorTemp -= winsB
				copy(a[dest+1:dest+1+winsB], tmp[cursorTemp+1:cursorTemp+1+winsB])
				lengthB -= winsB
				if lengthB == 1 {
					goto copyA
				}
				if lengthB == 0 {
					goto succeed
				}
			}
			a[dest] = a[cursorA]
			dest--
			cursorA--
			lengthA--
			if lengthA == 0 {
				goto succeed
			}
		}
		s.minGallop++
	}
succeed:
	if lengthB > 0 {
		copy(a[dest-(lengthB-1):dest+1], tmp[:lengthB])
	}
	return
copyA:
	dest -= lengthA
	cursorA -= lengthA
	copy(a[dest+1:dest+1+lengthA], a[cursorA+1:cursorA+1+lengthA])
	a[dest] = tmp[cursorTemp]
}
