package crdt

import "fmt"

// Map is a shared map (Yjs Y.Map). Values are Any values (see WriteAny),
// []byte, or nested types created with SetMap, SetArray, SetText,
// SetXmlFragment...
type Map struct{ b *branch }

// Get returns the value of key. Nested types come back as *Map, *Array,
// *Text, *XmlFragment, *XmlElement, *XmlText; subdocuments as *Subdoc.
func (m *Map) Get(key string) (any, bool) { return m.b.mapValue(key) }

// Has reports whether key is set.
func (m *Map) Has(key string) bool {
	_, ok := m.b.mapValue(key)
	return ok
}

// Keys returns the keys set, in the order they were first set here.
func (m *Map) Keys() []string {
	var keys []string
	for _, k := range m.b.mkeys {
		if !m.b.m[k].deleted() {
			keys = append(keys, k)
		}
	}
	return keys
}

// Len returns the number of keys set.
func (m *Map) Len() int { return len(m.Keys()) }

// ToJSON returns the map as Yjs toJSON does.
func (m *Map) ToJSON() map[string]any { return m.b.mapJSON() }

// Set sets key to value.
func (m *Map) Set(key string, value any) error {
	c, err := mapContent(value)
	if err != nil {
		return err
	}
	m.b.doc.transact(true, func(tr *transaction) { m.b.mapSetContent(tr, key, c) })
	return nil
}

// Delete removes key.
func (m *Map) Delete(key string) {
	m.b.doc.transact(true, func(tr *transaction) { m.b.mapDelete(tr, key) })
}

// SetMap sets key to a new nested Map and returns it.
func (m *Map) SetMap(key string) *Map { return &Map{m.setType(key, kindMap, "")} }

// SetArray sets key to a new nested Array and returns it.
func (m *Map) SetArray(key string) *Array { return &Array{m.setType(key, kindArray, "")} }

// SetText sets key to a new nested Text and returns it.
func (m *Map) SetText(key string) *Text { return &Text{m.setType(key, kindText, "")} }

// SetXmlFragment sets key to a new nested XmlFragment and returns it.
func (m *Map) SetXmlFragment(key string) *XmlFragment {
	return &XmlFragment{m.setType(key, kindXmlFragment, "")}
}

// SetXmlElement sets key to a new XmlElement named nodeName and returns it.
func (m *Map) SetXmlElement(key, nodeName string) *XmlElement {
	return &XmlElement{m.setType(key, kindXmlElement, nodeName)}
}

// SetXmlText sets key to a new XmlText and returns it.
func (m *Map) SetXmlText(key string) *XmlText { return &XmlText{m.setType(key, kindXmlText, "")} }

func (m *Map) setType(key string, k typeKind, name string) *branch {
	nt := &branch{doc: m.b.doc, kind: k, name: name}
	m.b.doc.transact(true, func(tr *transaction) { m.b.mapSetContent(tr, key, &contentType{t: nt}) })
	return nt
}

// mapContent is the content Yjs typeMapSet makes for a value.
func mapContent(v any) (content, error) {
	switch x := v.(type) {
	case []byte:
		return &contentBinary{b: append([]byte(nil), x...)}, nil
	case *Subdoc:
		return newContentDocFromOpts(x.GUID, x.Options), nil
	}
	var e Encoder
	if err := e.WriteAny(v); err != nil {
		return nil, fmt.Errorf("crdt: map value: %w", err)
	}
	return &contentAny{vals: []any{v}}, nil
}
