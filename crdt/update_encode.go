package crdt

import (
	"cmp"
	"slices"
)

// writeStructs writes the structs of one client from clock on (Yjs
// writeStructs): count, client, first clock, then the structs, the first
// one cut at clock.
func writeStructs(e *Encoder, structs []*item, client, clock uint64) {
	clock = max(clock, structs[0].id.Clock)
	start := findIndex(structs, clock)
	e.WriteVarUint(uint64(len(structs) - start))
	e.WriteVarUint(client)
	e.WriteVarUint(clock)
	first := structs[start]
	first.write(e, int(clock-first.id.Clock))
	for _, st := range structs[start+1:] {
		st.write(e, 0)
	}
}

// clientClock is one entry of a state vector.
type clientClock struct{ client, clock uint64 }

// sortDesc orders entries by descending client, the order Yjs writes.
func sortDesc(cs []clientClock) {
	slices.SortFunc(cs, func(a, b clientClock) int { return cmp.Compare(b.client, a.client) })
}

// writeClientsStructs writes every struct the store has beyond the state
// vector sv, clients in descending order (Yjs writeClientsStructs).
func writeClientsStructs(e *Encoder, s *structStore, sv map[uint64]uint64) {
	var buf [8]clientClock
	sm := buf[:0]
	// Clients the store lacks have nothing to write, whatever sv says.
	for _, client := range s.order {
		clock := sv[client]
		if s.state(client) > clock {
			sm = append(sm, clientClock{client, clock})
		}
	}
	sortDesc(sm)
	e.WriteVarUint(uint64(len(sm)))
	for _, c := range sm {
		writeStructs(e, s.clients[c.client].s, c.client, c.clock)
	}
}

// writeStateVector encodes sv, clients in descending order.
func writeStateVector(e *Encoder, sv map[uint64]uint64) {
	e.WriteVarUint(uint64(len(sv)))
	for _, c := range sortedClientsDesc(sv) {
		e.WriteVarUint(c)
		e.WriteVarUint(sv[c])
	}
}

// EncodeStateVector encodes a state vector (client id → next clock) as
// Yjs does.
func EncodeStateVector(sv map[uint64]uint64) []byte {
	e := NewEncoderSize(1 + len(sv)*8)
	writeStateVector(e, sv)
	return e.Bytes()
}
