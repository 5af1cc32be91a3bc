// Package storage keeps Quire's durable state: document metadata, each
// document's update log, compacted snapshots, named versions and share
// tokens. Store is the contract; bbolt is the embedded engine.
package storage

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Engines wrap them with %w; callers test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrClosed   = errors.New("store is closed")
	// ErrInvalid is bad input (empty id, empty update, a Compact beyond the
	// last seq, a cursor from another sort…). Nothing was changed.
	ErrInvalid = errors.New("invalid argument")
)

// MissingDocsError is the error of an Append that names documents which do
// not exist (errors.Is(err, ErrNotFound) holds). It lists them all, so a
// caller that batched many documents' updates (one deleted meanwhile) can
// drop those entries and append the rest again:
//
//	var missing *storage.MissingDocsError
//	if errors.As(err, &missing) { … missing.DocIDs … }
type MissingDocsError struct {
	DocIDs []string // in order of first appearance in the entries
}

func (e *MissingDocsError) Error() string {
	return fmt.Sprintf("append: documents %q: %v", e.DocIDs, ErrNotFound)
}

func (e *MissingDocsError) Unwrap() error { return ErrNotFound }

// DocMeta describes one document.
type DocMeta struct {
	ID      string    // UUID, or the name a client opened when creation on first connect is allowed
	Title   string    // free text; defaults to the ID
	Created time.Time // UTC
	Updated time.Time // UTC; time of the last append or rename (not compaction: it changes no content), to the second: appends within a second of it leave it
	Size    int64     // bytes held: snapshot plus log entries; maintained by the store
}

// SortKey orders ListDocs results.
type SortKey string

const (
	SortUpdated SortKey = "updated" // newest first
	SortCreated SortKey = "created" // newest first
	SortTitle   SortKey = "title"   // A→Z, case-insensitive, ties by id
)

// ListOptions selects a page of documents.
type ListOptions struct {
	Sort   SortKey // default SortUpdated
	Filter string  // case-insensitive substring of the title; empty matches all
	Limit  int     // page size; <= 0 means 50, capped at 500
	Cursor string  // opaque, from a previous page's next cursor; empty for the first page
}

// Entry is one update to append to a document's log.
type Entry struct {
	DocID  string
	Update []byte // a Yjs v1 update, stored as given
}

// Stored is what Load returns: a snapshot (possibly nil) plus the log
// entries written after it, oldest first. Seqs are contiguous:
// Updates[i] has seq SnapshotSeq+1+i, and the last one has LastSeq.
type Stored struct {
	Snapshot    []byte
	SnapshotSeq uint64 // last seq the snapshot covers; 0 when there is none
	Updates     [][]byte
	LastSeq     uint64 // sequence number of the last entry in Updates (or covered by Snapshot); 0 for a new doc
}

// Version is a named, immutable state of a document.
type Version struct {
	ID      string // UUID
	DocID   string
	Name    string
	Created time.Time
	State   []byte // full Yjs update of the document at that moment (only filled by GetVersion)
	Size    int64
}

// Role is what a share token allows.
type Role string

const (
	RoleViewer Role = "viewer"
	RoleEditor Role = "editor"
)

// ShareToken is a per-document capability. Only a hash of the secret is stored.
type ShareToken struct {
	ID        string // UUID, public handle used to list and revoke
	DocID     string
	Role      Role
	Created   time.Time
	ExpiresAt time.Time // zero: never
	Revoked   bool
}

// Store is Quire's durable state. All methods are safe for concurrent use.
// Every method that changes state returns only after the change is durable
// (fsynced), or with an error and no change.
type Store interface {
	// CreateDoc adds a document; ErrExists if its ID is taken. A zero
	// Created becomes now, a zero Updated becomes Created, an empty Title
	// becomes the ID; Size is ignored (a new document holds nothing).
	CreateDoc(ctx context.Context, meta DocMeta) error
	// GetDoc returns a document's metadata; ErrNotFound if absent.
	GetDoc(ctx context.Context, id string) (DocMeta, error)
	// ListDocs returns one page and the cursor of the next ("" when none).
	// A cursor is a position in the sort order, not an offset: documents
	// created between pages neither repeat nor hide others. A document
	// updated between pages moves (SortUpdated) and may be seen twice or not at all.
	ListDocs(ctx context.Context, opts ListOptions) (docs []DocMeta, next string, err error)
	// RenameDoc sets a document's title (empty: the ID) and Updated; ErrNotFound if absent.
	RenameDoc(ctx context.Context, id, title string) error
	// DeleteDoc removes a document with its log, snapshot, versions and
	// share tokens, in one transaction; ErrNotFound if absent.
	DeleteDoc(ctx context.Context, id string) error

	// Append adds entries (possibly for many documents) to their logs in one
	// transaction and one fsync, and returns each entry's sequence number in
	// its document's log (strictly increasing and contiguous per document,
	// never reused, even after Compact). Documents that do not exist fail
	// the whole call with a *MissingDocsError (an ErrNotFound) naming them,
	// and nothing is written; so does an empty Update (ErrInvalid). Entries
	// of one document keep their order; calls are committed in arrival order.
	Append(ctx context.Context, entries []Entry) (seqs []uint64, err error)
	// Load returns a document's snapshot and the log after it; ErrNotFound if absent.
	Load(ctx context.Context, id string) (Stored, error)
	// Compact stores snapshot as the document's state and drops the log
	// entries with seq <= throughSeq, in one transaction. snapshot must
	// contain every update up to throughSeq. ErrInvalid if throughSeq is
	// beyond the last seq or older than the stored snapshot, or snapshot is empty.
	Compact(ctx context.Context, id string, snapshot []byte, throughSeq uint64) error

	// CreateVersion stores a named state of a document; ErrNotFound if the
	// document is absent, ErrExists if v.ID is taken, ErrInvalid if v.ID or
	// v.State is empty. A zero Created becomes now; Size is len(State).
	CreateVersion(ctx context.Context, v Version) error
	// ListVersions lists a document's versions, newest first, without State;
	// ErrNotFound if the document is absent.
	ListVersions(ctx context.Context, docID string) ([]Version, error)
	// GetVersion returns one version with its State; ErrNotFound if absent.
	GetVersion(ctx context.Context, docID, versionID string) (Version, error)

	// CreateShareToken stores t with the SHA-256 of secret (never the
	// secret); ErrNotFound if the document is absent, ErrExists if t.ID or
	// the secret is already in use, ErrInvalid for an empty ID or secret or
	// an unknown role. A zero Created becomes now.
	CreateShareToken(ctx context.Context, t ShareToken, secret string) error
	// LookupShareToken finds the token whose secret this is; ErrNotFound if
	// none. Revoked and expired tokens are returned as they are: the caller decides.
	LookupShareToken(ctx context.Context, secret string) (ShareToken, error)
	// ListShareTokens lists a document's tokens, newest first; ErrNotFound
	// if the document is absent.
	ListShareTokens(ctx context.Context, docID string) ([]ShareToken, error)
	// RevokeShareToken marks a token revoked (again is fine); ErrNotFound if absent.
	RevokeShareToken(ctx context.Context, docID, tokenID string) error

	// Close waits for calls in progress, then closes the store. Later calls
	// return ErrClosed; a second Close returns nil.
	Close() error
}
