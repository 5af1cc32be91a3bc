package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	gosync "sync"
	"time"
)

// A minimal RFC 6455 client. The load tool holds thousands of connections on
// a machine it shares with the server, so each one is a net.Conn, a small
// read buffer and one reading goroutine; no writer goroutine, no
// compression, no per-connection timers.

const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa

	// websocketGUID is appended to the client key to compute the accept hash.
	websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
)

// CloseError is a close frame received from the server.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("websocket closed by server: code %d %q", e.Code, e.Reason)
}

// errMessageTooBig means a message exceeded the read limit.
var errMessageTooBig = errors.New("websocket message exceeds read limit")

// wsConn is one client WebSocket. ReadMessage must be called from one
// goroutine; WriteBinary is safe from any goroutine.
type wsConn struct {
	nc        net.Conn
	br        *bufio.Reader
	readLimit int
	rbuf      []byte

	wmu          gosync.Mutex
	wbuf         []byte
	writeTimeout time.Duration
}

// dialWebSocket opens a WebSocket to u (scheme ws) with the HTTP upgrade
// handshake. readBufSize sizes the buffered reader; messages may be larger.
func dialWebSocket(ctx context.Context, u *url.URL, readBufSize, readLimit int, writeTimeout time.Duration) (*wsConn, error) {
	if u.Scheme != "ws" {
		return nil, fmt.Errorf("dial %s: only ws:// is supported", u.Redacted())
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", host, err)
	}
	// The tool loads only this machine: even a name that resolved elsewhere
	// is refused.
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); !ok || !ta.IP.IsLoopback() {
		nc.Close()
		return nil, fmt.Errorf("dial %s: %s is not a loopback address", host, nc.RemoteAddr())
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(deadline)
	}
	var keyRaw [16]byte
	_, _ = rand.Read(keyRaw[:])
	key := base64.StdEncoding.EncodeToString(keyRaw[:])
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\n" +
		"Host: " + u.Host + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"User-Agent: quire-load\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		nc.Close()
		return nil, fmt.Errorf("websocket handshake with %s: %w", host, err)
	}
	br := bufio.NewReaderSize(nc, readBufSize)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("websocket handshake with %s: %w", host, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		nc.Close()
		return nil, fmt.Errorf("websocket handshake with %s: HTTP %s: %s", host, resp.Status, strings.TrimSpace(string(body)))
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		nc.Close()
		return nil, fmt.Errorf("websocket handshake with %s: missing Upgrade: websocket", host)
	}
	sum := sha1.Sum([]byte(key + websocketGUID))
	if resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		nc.Close()
		return nil, fmt.Errorf("websocket handshake with %s: wrong Sec-WebSocket-Accept", host)
	}
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		nc.Close()
		return nil, fmt.Errorf("websocket handshake with %s: unrequested extension %q", host, ext)
	}
	_ = nc.SetDeadline(time.Time{})
	return &wsConn{nc: nc, br: br, readLimit: readLimit, writeTimeout: writeTimeout}, nil
}

// WriteBinary sends p as one masked binary frame.
func (c *wsConn) WriteBinary(p []byte) error { return c.writeFrame(opBinary, p) }

func (c *wsConn) writeFrame(op byte, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	b := c.wbuf[:0]
	b = append(b, 0x80|op)
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	mask := mrand.Uint32()
	b = binary.LittleEndian.AppendUint32(b, mask)
	start := len(b)
	b = append(b, p...)
	maskBytes(b[start:], mask)
	if cap(b) <= 4096 {
		c.wbuf = b // keep small buffers; let rare big ones go
	}
	if c.writeTimeout > 0 {
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	}
	_, err := c.nc.Write(b)
	return err
}

// maskBytes XORs b with the 4-byte key, stored little-endian in mask.
func maskBytes(b []byte, mask uint32) {
	key64 := uint64(mask) | uint64(mask)<<32
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^key64)
	}
	k := mask
	for ; i < len(b); i++ {
		b[i] ^= byte(k)
		k = bits.RotateLeft32(k, -8)
	}
}

// ReadMessage returns the next data message. It answers pings itself and
// returns a *CloseError when the server closes. The slice is valid until the
// next call.
func (c *wsConn) ReadMessage() ([]byte, error) {
	msg := c.rbuf[:0]
	inMessage := false
	var hdr [14]byte
	for {
		if _, err := io.ReadFull(c.br, hdr[:2]); err != nil {
			return nil, err
		}
		fin := hdr[0]&0x80 != 0
		op := hdr[0] & 0x0f
		if hdr[0]&0x70 != 0 {
			return nil, fmt.Errorf("websocket protocol error: reserved bits set without an extension")
		}
		masked := hdr[1]&0x80 != 0
		n := uint64(hdr[1] & 0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(c.br, hdr[2:4]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(hdr[2:4]))
		case 127:
			if _, err := io.ReadFull(c.br, hdr[2:10]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(hdr[2:10])
		}
		var mask uint32
		if masked {
			if _, err := io.ReadFull(c.br, hdr[10:14]); err != nil {
				return nil, err
			}
			mask = binary.LittleEndian.Uint32(hdr[10:14])
		}
		if op >= opClose {
			if n > 125 || !fin {
				return nil, fmt.Errorf("websocket protocol error: bad control frame")
			}
			var ctl [125]byte
			payload := ctl[:n]
			if _, err := io.ReadFull(c.br, payload); err != nil {
				return nil, err
			}
			if masked {
				maskBytes(payload, mask)
			}
			switch op {
			case opPing:
				if err := c.writeFrame(opPong, payload); err != nil {
					return nil, err
				}
			case opPong:
			case opClose:
				ce := &CloseError{Code: 1005}
				if len(payload) >= 2 {
					ce.Code = int(binary.BigEndian.Uint16(payload))
					ce.Reason = string(payload[2:])
				}
				_ = c.writeFrame(opClose, payload[:min(len(payload), 2)])
				return nil, ce
			default:
				return nil, fmt.Errorf("websocket protocol error: unknown control opcode %d", op)
			}
			continue
		}
		switch {
		case op == opContinuation && !inMessage:
			return nil, fmt.Errorf("websocket protocol error: continuation without a message")
		case op != opContinuation && inMessage:
			return nil, fmt.Errorf("websocket protocol error: new message inside a fragmented one")
		case op != opContinuation && op != opBinary && op != opText:
			return nil, fmt.Errorf("websocket protocol error: unknown opcode %d", op)
		}
		inMessage = true
		if uint64(len(msg))+n > uint64(c.readLimit) {
			return nil, fmt.Errorf("%w (%d bytes)", errMessageTooBig, c.readLimit)
		}
		start := len(msg)
		msg = append(msg, make([]byte, n)...)
		if _, err := io.ReadFull(c.br, msg[start:]); err != nil {
			return nil, err
		}
		if masked {
			maskBytes(msg[start:], mask)
		}
		if fin {
			if cap(msg) <= 4096 {
				c.rbuf = msg[:0]
			} else {
				c.rbuf = nil
			}
			return msg, nil
		}
	}
}

// Close sends a normal close frame (best effort) and closes the socket.
func (c *wsConn) Close() error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	_ = c.writeFrame(opClose, []byte{0x03, 0xe8})
	return c.nc.Close()
}
