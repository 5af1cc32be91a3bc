package sync

import "fmt"

// CloseReason is why a session ended. Every way a session can end is one
// named value: it carries the WebSocket close code sent to the client, the
// label used in logs and metrics, and the text of the close frame.
//
// Codes 4400-4499 are final (y-websocket 3.x stops reconnecting); 1012,
// 1013 and 4500-4599 are transient (the client reconnects and resynchronises
// by state vector, so nothing is lost). A zero code means the connection
// was already gone: nothing is sent.
type CloseReason uint8

const (
	// ClientClosed: the client closed the WebSocket itself.
	ClientClosed CloseReason = iota + 1
	// ConnectionLost: reading failed (network error, peer vanished).
	ConnectionLost
	// MessageTooBig: a message exceeded the configured maximum (1009).
	MessageTooBig
	// MalformedMessage: a frame, update or awareness message did not decode
	// or apply; the document is unchanged (4400).
	MalformedMessage
	// Unauthorized: missing or invalid credentials (4401).
	Unauthorized
	// Forbidden: credentials valid but not for this document (4403).
	Forbidden
	// DocumentNotFound: the document does not exist and creation on first
	// connect is off (4404).
	DocumentNotFound
	// DocumentDeleted: the document was deleted while open (4410).
	DocumentDeleted
	// SlowConsumer: the session's send queue passed its byte limit (4500).
	SlowConsumer
	// PingTimeout: no pong came back in time; the peer is presumed dead (4501).
	PingTimeout
	// WriteFailed: a write failed or timed out (4502).
	WriteFailed
	// LoadFailed: the document could not be loaded from storage (1011).
	LoadFailed
	// StorageFailed: a commit to storage failed; unacknowledged updates
	// are dropped from memory and clients push them again on reconnect (1013).
	StorageFailed
	// ServerShutdown: the server is restarting (1012).
	ServerShutdown
)

type reasonInfo struct {
	name string
	code int
	text string
}

var reasons = [...]reasonInfo{
	ClientClosed:     {"client_closed", 0, ""},
	ConnectionLost:   {"connection_lost", 0, ""},
	MessageTooBig:    {"message_too_big", 1009, "message too big: raise the server's max message size or send smaller updates"},
	MalformedMessage: {"malformed_message", 4400, "malformed message"},
	Unauthorized:     {"unauthorized", 4401, "unauthorized: send a valid token"},
	Forbidden:        {"forbidden", 4403, "forbidden: this token does not give access to this document"},
	DocumentNotFound: {"document_not_found", 4404, "document not found"},
	DocumentDeleted:  {"document_deleted", 4410, "document deleted"},
	SlowConsumer:     {"slow_consumer", 4500, "slow consumer: too far behind, reconnect to resync"},
	PingTimeout:      {"ping_timeout", 4501, "ping timeout"},
	WriteFailed:      {"write_failed", 4502, "write failed: reconnect to resync"},
	LoadFailed:       {"load_failed", 1011, "document failed to load"},
	StorageFailed:    {"storage_failed", 1013, "storage failure: try again later"},
	ServerShutdown:   {"server_shutdown", 1012, "server restarting: reconnect"},
}

// AllCloseReasons lists every reason, for metrics pre-registration and docs.
func AllCloseReasons() []CloseReason {
	out := make([]CloseReason, 0, len(reasons)-1)
	for r := ClientClosed; int(r) < len(reasons); r++ {
		out = append(out, r)
	}
	return out
}

func (r CloseReason) info() reasonInfo {
	if int(r) < len(reasons) && r != 0 {
		return reasons[r]
	}
	return reasonInfo{fmt.Sprintf("reason_%d", r), 1011, "internal error"}
}

// String is the label used in logs and metrics (snake_case).
func (r CloseReason) String() string { return r.info().name }

// Code is the WebSocket close code sent for r; 0 means none is sent.
func (r CloseReason) Code() int { return r.info().code }

// Text is the default close-frame reason for r.
func (r CloseReason) Text() string { return r.info().text }

// Final reports whether a y-websocket client gives up after this code.
func (r CloseReason) Final() bool { c := r.Code(); return c >= 4400 && c < 4500 }

// closeText builds a close-frame reason: the default text plus detail,
// cut to the 123 bytes a close frame can carry.
func closeText(r CloseReason, detail string) string {
	s := r.Text()
	if detail != "" {
		if s == "" {
			s = detail
		} else {
			s += ": " + detail
		}
	}
	const maxReason = 123
	if len(s) > maxReason {
		s = s[:maxReason]
		// Do not cut a UTF-8 sequence in half.
		for len(s) > 0 && s[len(s)-1]&0xC0 == 0x80 {
			s = s[:len(s)-1]
		}
		if len(s) > 0 && s[len(s)-1] >= 0xC0 {
			s = s[:len(s)-1]
		}
	}
	return s
}
