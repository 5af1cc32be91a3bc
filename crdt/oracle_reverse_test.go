package crdt

// The reverse direction: random local edits made with the Go API on three
// replicas, exchanged as the updates Transact returns (out of order,
// duplicated, across offline periods), then applied in real Yjs. Yjs must
// read them to the same content, and a Yjs replica that receives the
// updates in the same order as a Go observer must encode the same bytes.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
)

var reverseRoots = []oracleRoot{
	{Name: "text", Type: "Text"},
	{Name: "map", Type: "Map"},
	{Name: "array", Type: "Array"},
	{Name: "default", Type: "XmlFragment"},
}

var (
	reverseWords     = []string{"the", "quick", "fox", " ", " ", "\n", "é", "ß", "漢字", "한국어", "😀", "👍🏽", "𝄞", "e\u0301", "<tag>", "&amp;", "\t"}
	reverseTextAttrs = []map[string]any{
		{"bold": true}, {"italic": true}, {"bold": nil}, {"color": "#c00"}, {"color": nil},
		{"link": "https://example.com/a"}, {"bold": true, "italic": true}, {"size": 12},
	}
	reverseMarks = []map[string]any{
		{"bold": map[string]any{}}, {"italic": map[string]any{}}, {"bold": nil},
		{"link": map[string]any{"href": "https://quire.example/x"}}, {"link": nil}, {"code": map[string]any{}},
	}
	reverseEmbeds = []any{
		map[string]any{"image": "https://example.com/cat.png"}, map[string]any{"formula": "e=mc^2"},
		map[string]any{"video": map[string]any{"src": "v.mp4", "w": 640}},
	}
	reverseKeys = []string{"a", "b", "title", "count", "nested", "ü-key", ""}
)

type reverseSim struct {
	t        *testing.T
	rng      *rand.Rand
	docs     []*Doc
	observer *Doc
	updates  [][]byte
	logs     [][]int // per replica (observer last): updates in the order it has them
	chans    [][][]int
	online   []bool
}

func (s *reverseSim) pick(n int) int { return s.rng.IntN(n) }

func (s *reverseSim) word() string {
	var sb strings.Builder
	for range 1 + s.pick(3) {
		sb.WriteString(reverseWords[s.pick(len(reverseWords))])
	}
	return sb.String()
}

func (s *reverseSim) anyValue(depth int) any {
	switch s.pick(10) {
	case 0:
		return s.pick(200) - 50
	case 1:
		return []float64{0.5, -2.25, 1.1, 1e21, 1 << 40, -(1 << 33)}[s.pick(6)]
	case 2:
		return s.word()
	case 3:
		return s.pick(2) == 0
	case 4:
		return nil
	case 5:
		if depth < 2 {
			return []any{s.anyValue(depth + 1), s.anyValue(depth + 1)}
		}
		return "leaf"
	case 6:
		if depth < 2 {
			return map[string]any{"k": s.anyValue(depth + 1), "z": "v", "a": s.pick(9)}
		}
		return 7
	case 7:
		return []byte{byte(s.pick(256)), 0, 255}[:s.pick(4)]
	case 8:
		return ""
	}
	return s.pick(1 << 31)
}

// textBoundaries lists the UTF-16 positions of t that are not inside a
// surrogate pair (embeds count one unit).
func textBoundaries(t *Text) []int {
	var units []uint16
	for _, op := range t.Delta() {
		if str, ok := op.Insert.(string); ok {
			units = append(units, utf16.Encode([]rune(str))...)
		} else {
			units = append(units, 1)
		}
	}
	out := []int{0}
	for i := 1; i <= len(units); i++ {
		if i < len(units) && units[i-1] >= 0xd800 && units[i-1] <= 0xdbff && units[i] >= 0xdc00 && units[i] <= 0xdfff {
			continue
		}
		out = append(out, i)
	}
	return out
}

func (s *reverseSim) textOp(t *Text, xml bool) {
	attrs := reverseTextAttrs
	if xml {
		attrs = reverseMarks
	}
	b := textBoundaries(t)
	r := s.pick(10)
	switch {
	case r <= 4 || len(b) < 2:
		pos := b[s.pick(len(b))]
		switch {
		case !xml && s.pick(8) == 0:
			var a map[string]any
			if s.pick(3) == 0 {
				a = attrs[s.pick(len(attrs))]
			}
			t.InsertEmbed(pos, reverseEmbeds[s.pick(len(reverseEmbeds))], a)
		case s.pick(5) < 2:
			a := map[string]any{}
			if s.pick(3) != 0 {
				a = attrs[s.pick(len(attrs))]
			}
			t.InsertFormatted(pos, s.word(), a)
		default:
			t.Insert(pos, s.word())
		}
	default:
		i := s.pick(len(b) - 1)
		j := i + 1 + s.pick(min(6, len(b)-1-i))
		if r <= 7 {
			t.Delete(b[i], b[j]-b[i])
		} else {
			t.Format(b[i], b[j]-b[i], attrs[s.pick(len(attrs))])
		}
	}
}

func (s *reverseSim) check(err error) {
	if err != nil {
		s.t.Helper()
		s.t.Fatal(err)
	}
}

func (s *reverseSim) mapOp(m *Map, depth int) {
	keys := m.Keys()
	switch r := s.pick(10); {
	case len(keys) > 0 && r < 2:
		m.Delete(keys[s.pick(len(keys))])
	case depth < 3 && r < 4:
		key := reverseKeys[s.pick(len(reverseKeys))]
		switch s.pick(3) {
		case 0:
			s.check(m.SetMap(key).Set("a", s.anyValue(0)))
		case 1:
			s.check(m.SetArray(key).Push(s.anyValue(0), s.anyValue(0)))
		default:
			m.SetText(key).Insert(0, s.word())
		}
	default:
		s.check(m.Set(reverseKeys[s.pick(len(reverseKeys))], s.anyValue(0)))
	}
}

func (s *reverseSim) arrayOp(a *Array, depth int) {
	switch r := s.pick(10); {
	case a.Len() > 0 && r < 3:
		i := s.pick(a.Len())
		s.check(a.Delete(i, 1+s.pick(min(3, a.Len()-i))))
	case depth < 3 && r < 5:
		i := s.pick(a.Len() + 1)
		switch s.pick(3) {
		case 0:
			m, err := a.InsertMap(i)
			s.check(err)
			s.check(m.Set("k", s.anyValue(0)))
		case 1:
			n, err := a.InsertArray(i)
			s.check(err)
			s.check(n.Push(s.anyValue(0)))
		default:
			txt, err := a.InsertText(i)
			s.check(err)
			txt.Insert(0, s.word())
		}
	case r < 7:
		s.check(a.Push(s.anyValue(0), s.anyValue(0)))
	default:
		s.check(a.Insert(s.pick(a.Len()+1), s.anyValue(0)))
	}
}

// xmlContainer is what XmlFragment and XmlElement share.
type xmlContainer interface {
	Len() int
	InsertElement(index int, nodeName string) (*XmlElement, error)
	InsertText(index int) (*XmlText, error)
	Delete(index, length int) error
}

// newBlock inserts a y-prosemirror-shaped block at i in c.
func (s *reverseSim) newBlock(c xmlContainer, i int, depth int) {
	kinds := []string{"paragraph", "paragraph", "heading", "bulletList", "blockquote"}
	kind := kinds[s.pick(len(kinds))]
	if depth >= 3 {
		kind = "paragraph"
	}
	el, err := c.InsertElement(i, kind)
	s.check(err)
	switch kind {
	case "heading":
		s.check(el.SetAttribute("level", 1+s.pick(3)))
		fallthrough
	case "paragraph":
		if s.pick(3) == 0 {
			s.check(el.SetAttribute("textAlign", "center"))
		}
		txt, err := el.InsertText(0)
		s.check(err)
		txt.Insert(0, s.word())
	case "bulletList":
		li, err := el.InsertElement(0, "listItem")
		s.check(err)
		p, err := li.InsertElement(0, "paragraph")
		s.check(err)
		txt, err := p.InsertText(0)
		s.check(err)
		txt.Insert(0, s.word())
	default:
		p, err := el.InsertElement(0, "paragraph")
		s.check(err)
		txt, err := p.InsertText(0)
		s.check(err)
		txt.Insert(0, s.word())
	}
}

func (s *reverseSim) xmlOp(c xmlContainer, depth int) {
	if el, ok := c.(*XmlElement); ok && (el.NodeName() == "paragraph" || el.NodeName() == "heading") {
		switch s.pick(4) {
		case 0:
			s.check(el.SetAttribute("textAlign", []string{"left", "right", "center"}[s.pick(3)]))
		case 1:
			el.RemoveAttribute("textAlign")
		case 2:
			if el.NodeName() == "heading" {
				s.check(el.SetAttribute("level", 1+s.pick(6)))
			}
		default:
			if el.Len() < 6 {
				_, err := el.InsertElement(el.Len(), "hardBreak")
				s.check(err)
				txt, err := el.InsertText(el.Len())
				s.check(err)
				txt.Insert(0, s.word())
			}
		}
		return
	}
	if c.Len() > 0 && s.pick(10) < 3 {
		i := s.pick(c.Len())
		s.check(c.Delete(i, 1+s.pick(min(2, c.Len()-i))))
		return
	}
	s.newBlock(c, s.pick(c.Len()+1), depth)
}

type liveType struct {
	v     any
	depth int
}

func liveTypes(d *Doc) []liveType {
	var out []liveType
	var visit func(v any, depth int)
	visit = func(v any, depth int) {
		switch x := v.(type) {
		case *Map:
			out = append(out, liveType{x, depth})
			for _, k := range x.Keys() {
				val, _ := x.Get(k)
				visit(val, depth+1)
			}
		case *Array:
			out = append(out, liveType{x, depth})
			for _, val := range x.ToSlice() {
				visit(val, depth+1)
			}
		case *Text, *XmlText:
			out = append(out, liveType{x, depth})
		case *XmlFragment:
			out = append(out, liveType{x, depth})
			for _, c := range x.Children() {
				visit(c, depth+1)
			}
		case *XmlElement:
			if x.NodeName() == "hardBreak" {
				return
			}
			out = append(out, liveType{x, depth})
			for _, c := range x.Children() {
				visit(c, depth+1)
			}
		}
	}
	visit(d.GetText("text"), 0)
	visit(d.GetMap("map"), 0)
	visit(d.GetArray("array"), 0)
	visit(d.GetXmlFragment("default"), 0)
	return out
}

func (s *reverseSim) edit(i int) {
	d := s.docs[i]
	ops := 1 + s.pick(3)
	if s.pick(10) == 0 {
		ops = 4 + s.pick(7)
	}
	u := d.Transact(func() {
		for range ops {
			types := liveTypes(d)
			lt := types[s.pick(len(types))]
			switch x := lt.v.(type) {
			case *Text:
				s.textOp(x, false)
			case *XmlText:
				s.textOp(x.Text(), true)
			case *Map:
				s.mapOp(x, lt.depth)
			case *Array:
				s.arrayOp(x, lt.depth)
			case *XmlFragment:
				s.xmlOp(x, lt.depth)
			case *XmlElement:
				s.xmlOp(x, lt.depth)
			}
		}
	})
	if u == nil {
		return
	}
	k := s.add(u)
	s.logs[i] = append(s.logs[i], k)
	for j := range s.docs {
		if j != i {
			s.chans[i][j] = append(s.chans[i][j], k)
		}
	}
	s.chans[i][len(s.docs)] = append(s.chans[i][len(s.docs)], k) // the observer
}

func (s *reverseSim) add(u []byte) int {
	s.updates = append(s.updates, u)
	return len(s.updates) - 1
}

func (s *reverseSim) replica(j int) *Doc {
	if j == len(s.docs) {
		return s.observer
	}
	return s.docs[j]
}

func (s *reverseSim) apply(j, k int) {
	s.t.Helper()
	s.logs[j] = append(s.logs[j], k)
	if err := s.replica(j).ApplyUpdate(s.updates[k]); err != nil {
		s.t.Fatalf("replica %d: ApplyUpdate(update %d): %v", j, k, err)
	}
}

// deliverOne hands replica j one of i's queued updates, at random (so out
// of order), sometimes keeping it queued to deliver again.
func (s *reverseSim) deliverOne(i, j int) {
	q := s.chans[i][j]
	p := s.pick(len(q))
	k := q[p]
	if s.pick(8) != 0 {
		s.chans[i][j] = append(q[:p], q[p+1:]...)
	}
	s.apply(j, k)
}

func (s *reverseSim) upLinks() [][2]int {
	var out [][2]int
	for i := range s.docs {
		for j := range len(s.docs) + 1 {
			if i != j && s.online[i] && (j == len(s.docs) || s.online[j]) && len(s.chans[i][j]) > 0 {
				out = append(out, [2]int{i, j})
			}
		}
	}
	return out
}

func (s *reverseSim) flush() {
	for links := s.upLinks(); len(links) > 0; links = s.upLinks() {
		l := links[s.pick(len(links))]
		s.deliverOne(l[0], l[1])
	}
}

// exchange is y-protocols' sync step 2 from i to j: what i has that j lacks
// (deletions included, which also carries formatting clean-ups).
func (s *reverseSim) exchange(i, j int) {
	u, err := s.replica(i).EncodeStateAsUpdate(s.replica(j).EncodeStateVector())
	s.check(err)
	s.apply(j, s.add(u))
}

func runReverseSession(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	clients := []uint64{1 + rng.Uint64N(40), 1 << 31, 0xffffffff - rng.Uint64N(3), rng.Uint64N(1 << 32), 1<<32 + rng.Uint64N(1<<20)*1024}
	rng.Shuffle(len(clients), func(i, j int) { clients[i], clients[j] = clients[j], clients[i] })
	gc := seed%4 != 0 // every fourth session keeps deleted content
	s := &reverseSim{t: t, rng: rng, online: []bool{true, true, true}}
	for i := range 3 {
		s.docs = append(s.docs, newOracleDoc(clients[i], gc, reverseRoots))
	}
	s.observer = newOracleDoc(clients[3], gc, reverseRoots)
	s.logs = make([][]int, 4)
	s.chans = make([][][]int, 3)
	for i := range s.chans {
		s.chans[i] = make([][]int, 4)
	}
	for phase := range 3 {
		last := phase == 2
		for i := range s.online {
			s.online[i] = last || s.pick(3) != 0
		}
		for range 20 + s.pick(30) {
			if links := s.upLinks(); len(links) > 0 && s.pick(2) == 0 {
				l := links[s.pick(len(links))]
				s.deliverOne(l[0], l[1])
			} else {
				s.edit(s.pick(3))
			}
		}
		s.flush()
	}
	// Formatting clean-ups a replica makes after remote changes are not in
	// any update Transact returned; a sync step 2 round carries them.
	for i := range 3 {
		for j := range 4 {
			if i != j {
				s.exchange(i, j)
			}
		}
	}

	// Everyone holds the same content now.
	want, err := canonicalJSON(s.observer.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range s.docs {
		got, err := canonicalJSON(d.ToJSON())
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("seed %d: Go replica %d did not converge with the observer:\n  observer %s\n  replica  %s", seed, i, want, got)
		}
	}

	// Real Yjs replays every replica's sequence.
	var sequences [][]string
	for _, log := range s.logs {
		var seq []string
		for _, k := range log {
			seq = append(seq, base64.StdEncoding.EncodeToString(s.updates[k]))
		}
		sequences = append(sequences, seq)
	}
	yjs := yjsApply(t, gc, reverseRoots, sequences)
	// The observer only ever applied updates, as its Yjs twin did: all of
	// it must match, bytes included.
	if errs := checkAgainst(t, s.observer, reverseRoots, yjs[3]); len(errs) > 0 {
		t.Fatalf("seed %d: observer (client %d) after %d updates differs from Yjs:\n%s",
			seed, clients[3], len(s.logs[3]), strings.Join(errs, "\n"))
	}
	// The editing replicas made their edits locally; Yjs applies them as
	// remote updates, which could only add formatting clean-ups. The final
	// exchange carried every replica's clean-ups to all, so the documents,
	// bytes included, must match too.
	for i, d := range s.docs {
		if errs := checkAgainst(t, d, reverseRoots, yjs[i]); len(errs) > 0 {
			t.Fatalf("seed %d: Go replica %d (client %d) differs from Yjs replaying its %d updates:\n%s",
				seed, i, clients[i], len(s.logs[i]), strings.Join(errs, "\n"))
		}
	}
}

func TestOracleReverse(t *testing.T) {
	sessions, seed := 12, uint64(20261125)
	if s := os.Getenv("QUIRE_ORACLE_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("QUIRE_ORACLE_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seeds %d..%d", seed, seed+uint64(sessions)-1)
	for i := range sessions {
		t.Run(fmt.Sprint(seed+uint64(i)), func(t *testing.T) { runReverseSession(t, seed+uint64(i)) })
	}
}

// TestOracleSurrogateSplit repeats testdata/oracle/surrogate.mjs with the
// Go API: local edits inside surrogate pairs turn both halves into U+FFFD,
// and the updates, content and bytes on both sides match Yjs'.
func TestOracleSurrogateSplit(t *testing.T) {
	var yjs struct {
		Updates []string    `json:"updates"`
		Local   oracleCheck `json:"local"`
		Remote  oracleCheck `json:"remote"`
	}
	if err := json.Unmarshal(runNode(t, "surrogate.mjs"), &yjs); err != nil {
		t.Fatal(err)
	}
	roots := []oracleRoot{{Name: "text", Type: "Text"}, {Name: "default", Type: "XmlFragment"}, {Name: "plain", Type: "Text"}}
	a := newOracleDoc(1, true, roots)
	b := newOracleDoc(2, true, roots)
	var xt *XmlText
	a.Transact(func() {
		a.GetText("plain").InsertFormatted(0, "p😀q", map[string]any{"bold": true})
		a.GetText("text").Insert(0, "a😀b👍🏽c")
		p, err := a.GetXmlFragment("default").InsertElement(0, "paragraph")
		if err != nil {
			t.Fatal(err)
		}
		if xt, err = p.InsertText(0); err != nil {
			t.Fatal(err)
		}
		xt.Insert(0, "x🎉y")
	})
	full, err := a.EncodeStateAsUpdate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ApplyUpdate(full); err != nil {
		t.Fatal(err)
	}
	text := b.GetText("text")
	p := b.GetXmlFragment("default").Children()[0].(*XmlElement)
	bxt := p.Children()[0].(*XmlText)
	updates := [][]byte{
		b.Transact(func() { text.Insert(2, "X") }),
		b.Transact(func() { text.Delete(6, 1) }),
		b.Transact(func() { text.Format(7, 2, map[string]any{"bold": true}) }),
		b.Transact(func() { bxt.InsertFormatted(2, "Z", map[string]any{"italic": map[string]any{}}) }),
	}
	// Formatting what is already formatted, from inside a pair: no update,
	// but this replica's pair becomes U+FFFD U+FFFD (Yjs diverges here).
	if u := b.Transact(func() { b.GetText("plain").Format(2, 1, map[string]any{"bold": true}) }); u != nil {
		t.Fatalf("a format that changes nothing produced an update: % x", u)
	}
	if len(updates) != len(yjs.Updates) {
		t.Fatalf("Yjs made %d updates, the scenario %d", len(yjs.Updates), len(updates))
	}
	for i, u := range updates {
		if want := mustB64(t, yjs.Updates[i]); !bytes.Equal(u, want) {
			t.Errorf("update %d: %s", i, byteDiff(t, "update", want, u))
		}
		if err := a.ApplyUpdate(u); err != nil {
			t.Fatal(err)
		}
	}
	if errs := checkAgainst(t, b, roots, yjs.Local); len(errs) > 0 {
		t.Errorf("the replica that split the pairs differs from Yjs:\n%s", strings.Join(errs, "\n"))
	}
	if errs := checkAgainst(t, a, roots, yjs.Remote); len(errs) > 0 {
		t.Errorf("the replica that received the splits differs from Yjs:\n%s", strings.Join(errs, "\n"))
	}
}
