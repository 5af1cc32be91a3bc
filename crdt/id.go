package crdt

// ID identifies one unit of content: the client that created it and that
// client's clock (a count of units it had created before).
type ID struct {
	Client uint64
	Clock  uint64
}
