package crdt

// writeStructs writes the structs of one client from clock on (Yjs
// writeStructs): count, client, first clock, then the structs, the first
// one cut at clock.
func writeStructs(e *Encoder, structs []*Item, client, clock uint64) {
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

// writeClientsStructs writes every struct the store has beyond the state
// vector sv, clients in descending order (Yjs writeClientsStructs).
func writeClientsStructs(e *Encoder, s *structStore, sv map[uint64]uint64) {
	sm := map[uint64]uint64{}
	for client, clock := range sv {
		if s.state(client) > clock {
			sm[client] = clock
		}
	}
	for client := range s.clients {
		if _, ok := sv[client]; !ok {
			sm[client] = 0
		}
	}
	e.WriteVarUint(uint64(len(sm)))
	for _, client := range sortedClientsDesc(sm) {
		writeStructs(e, s.clients[client].s, client, sm[client])
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
