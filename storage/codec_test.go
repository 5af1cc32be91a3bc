package storage

import (
	"strings"
	"testing"
	"time"
)

// titleContains must agree with the plain definition: a case-insensitive
// substring of the title.
func TestTitleContains(t *testing.T) {
	titles := []string{"", "Quarterly Report", "REPORT", "réunion Été", "Straße", "ab", "Kelvin K"}
	filters := []string{"", "report", "rep", "t q", "été", "ÉTÉ", "strasse", "straße", "abc", "k", "K", "kelvin k"}
	for _, title := range titles {
		rec := (&docRecord{Title: title, Created: time.Unix(1, 0)}).encode()
		for _, f := range filters {
			lower := strings.ToLower(f)
			want := strings.Contains(strings.ToLower(title), lower)
			if got := titleContains(rec, lower); got != want {
				t.Errorf("titleContains(%q, %q) = %v, want %v", title, lower, got, want)
			}
		}
	}
	if titleContains([]byte{recordV1, 0xff}, "x") {
		t.Error("a corrupt record matched")
	}
}

// Records round-trip, and a record from a newer format is refused, not guessed at.
func TestRecordCodec(t *testing.T) {
	r := docRecord{Title: "T", Created: base, Updated: base.Add(time.Hour), LastSeq: 9, SnapSeq: 4, SnapBytes: 100, LogBytes: 50, LogCount: 5}
	got, err := decodeDocRecord(r.encode())
	if err != nil || got != r {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	tok := ShareToken{ID: "i", DocID: "d", Role: RoleEditor, Created: base, Revoked: true}
	if got, err := decodeShare(encodeShare(&tok)); err != nil || got != tok {
		t.Fatalf("share round trip: %+v, %v", got, err)
	}
	newer := r.encode()
	newer[0] = recordV1 + 1
	if _, err := decodeDocRecord(newer); err == nil || !strings.Contains(err.Error(), "unknown to this build") {
		t.Fatalf("newer record: %v", err)
	}
	if _, err := decodeDocRecord(r.encode()[:5]); err == nil {
		t.Fatal("truncated record decoded")
	}
	old := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	if string(timeKeyDesc(old)) <= string(timeKeyDesc(base)) {
		t.Fatal("an older instant must sort after a newer one")
	}
	for _, k := range [][]byte{logKey(logPrefix("doc"), 7), logKey(logPrefix(""), 0)} {
		if id, seq, ok := splitLogKey(k); !ok || (id != "doc" && id != "") || (seq != 7 && seq != 0) {
			t.Fatalf("splitLogKey(%x) = %q %d %v", k, id, seq, ok)
		}
	}
}
