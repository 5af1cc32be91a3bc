package crdt

import (
	"fmt"
)

// Array is a shared array (Yjs Y.Array). Elements are Any values, []byte,
// or nested types created with InsertMap, InsertArray, InsertText...
type Array struct{ b *branch }

// Len returns the number of elements.
func (a *Array) Len() int { return a.b.length }

// Get returns element i (nested types as *Map, *Array, *Text...).
func (a *Array) Get(i int) (any, bool) {
	if i < 0 || i >= a.b.length {
		return nil, false
	}
	for n := a.b.start; n != nil; n = n.right {
		if n.deleted() || !n.countable() {
			continue
		}
		if i < n.length {
			switch c := n.content.(type) {
			case *contentAny:
				return c.vals[i], true
			case *contentJSON:
				return parseJSONValue(c.vals[i]), true
			}
			return lastContentValue(n), true
		}
		i -= n.length
	}
	return nil, false
}

// ToSlice returns the elements.
func (a *Array) ToSlice() []any { return a.b.listValues() }

// ToJSON returns the array as Yjs toJSON does.
func (a *Array) ToJSON() []any { return a.b.toJSON().([]any) }

// Insert inserts values at index. Consecutive Any values become one item,
// as in Yjs.
func (a *Array) Insert(index int, values ...any) error {
	if index < 0 || index > a.b.length {
		return fmt.Errorf("%w: insert at %d, length %d", ErrOutOfRange, index, a.b.length)
	}
	cs, err := listContents(values)
	if err != nil {
		return err
	}
	if len(cs) == 0 {
		return nil
	}
	a.b.doc.transact(true, func(tr *transaction) { a.b.listInsert(tr, index, cs) })
	return nil
}

// Push appends values.
func (a *Array) Push(values ...any) error { return a.Insert(a.b.length, values...) }

// Delete deletes length elements from index.
func (a *Array) Delete(index, length int) error {
	if index < 0 || length < 0 || index+length > a.b.length {
		return fmt.Errorf("%w: delete %d at %d, length %d", ErrOutOfRange, length, index, a.b.length)
	}
	a.b.doc.transact(true, func(tr *transaction) { a.b.listDelete(tr, index, length) })
	return nil
}

// InsertMap inserts a new nested Map at index and returns it.
func (a *Array) InsertMap(index int) (*Map, error) {
	t, err := a.insertType(index, kindMap, "")
	return &Map{t}, err
}

// InsertArray inserts a new nested Array at index and returns it.
func (a *Array) InsertArray(index int) (*Array, error) {
	t, err := a.insertType(index, kindArray, "")
	return &Array{t}, err
}

// InsertText inserts a new nested Text at index and returns it.
func (a *Array) InsertText(index int) (*Text, error) {
	t, err := a.insertType(index, kindText, "")
	return &Text{t}, err
}

func (a *Array) insertType(index int, k typeKind, name string) (*branch, error) {
	nt := &branch{doc: a.b.doc, kind: k, name: name}
	if index < 0 || index > a.b.length {
		return nt, fmt.Errorf("%w: insert at %d, length %d", ErrOutOfRange, index, a.b.length)
	}
	a.b.doc.transact(true, func(tr *transaction) { a.b.listInsert(tr, index, []content{&contentType{t: nt}}) })
	return nt, nil
}

// listContents groups values into contents as Yjs typeListInsertGenericsAfter.
func listContents(values []any) ([]content, error) {
	var cs []content
	var run []any
	flush := func() {
		if len(run) > 0 {
			cs = append(cs, &contentAny{vals: run})
			run = nil
		}
	}
	var e Encoder
	for _, v := range values {
		switch x := v.(type) {
		case []byte:
			flush()
			cs = append(cs, &contentBinary{b: append([]byte(nil), x...)})
			continue
		case *Subdoc:
			flush()
			cs = append(cs, newContentDocFromOpts(x.GUID, x.Options))
			continue
		case Undefined, BigInt:
			return nil, fmt.Errorf("crdt: array element: unsupported %T", v)
		}
		e.Reset()
		if err := e.WriteAny(v); err != nil {
			return nil, fmt.Errorf("crdt: array element: %w", err)
		}
		run = append(run, v)
	}
	flush()
	return cs, nil
}
