package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"syscall"
	"testing"
	"time"
)

// testFrame is one frame as the test server reads or writes it.
type testFrame struct {
	fin     bool
	op      byte
	masked  bool
	payload []byte
}

func writeServerFrame(w io.Writer, fin bool, op byte, payload []byte) error {
	b := []byte{op}
	if fin {
		b[0] |= 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	_, err := w.Write(append(b, payload...))
	return err
}

func readClientFrame(r *bufio.Reader) (testFrame, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return testFrame{}, err
	}
	f := testFrame{fin: h[0]&0x80 != 0, op: h[0] & 0xf, masked: h[1]&0x80 != 0}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		io.ReadFull(r, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		io.ReadFull(r, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	var key [4]byte
	if f.masked {
		io.ReadFull(r, key[:])
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(r, f.payload); err != nil {
		return testFrame{}, err
	}
	for i := range f.payload {
		f.payload[i] ^= key[i%4]
	}
	return f, nil
}

// wsTestServer upgrades one connection and hands it to script.
func wsTestServer(t *testing.T, script func(rw *bufio.ReadWriter)) *url.URL {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Sec-WebSocket-Version") != "13" || r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "not a websocket request", http.StatusBadRequest)
			return
		}
		sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + websocketGUID))
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n")
		rw.Flush()
		script(rw)
		rw.Flush()
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	u.Scheme = "ws"
	u.Path = "/ws/doc"
	return u
}

func TestWebSocketClientFrames(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 7000) // needs a 64-bit length
	serverErr := make(chan error, 1)
	u := wsTestServer(t, func(rw *bufio.ReadWriter) {
		serverErr <- func() error {
			f, err := readClientFrame(rw.Reader)
			if err != nil {
				return err
			}
			if !f.masked || !f.fin || f.op != opBinary || string(f.payload) != "hello" {
				return errors.New("first client frame is not a masked binary \"hello\"")
			}
			// A fragmented message with a ping between its frames.
			writeServerFrame(rw, false, opBinary, []byte("frag"))
			writeServerFrame(rw, true, opPing, []byte("p1"))
			writeServerFrame(rw, true, opContinuation, []byte("mented"))
			writeServerFrame(rw, true, opBinary, big)
			writeServerFrame(rw, true, opBinary, nil)
			rw.Flush()
			pong, err := readClientFrame(rw.Reader)
			if err != nil {
				return err
			}
			if pong.op != opPong || string(pong.payload) != "p1" || !pong.masked {
				return errors.New("ping not answered with a masked pong carrying its payload")
			}
			writeServerFrame(rw, true, opClose, append([]byte{0x11, 0x33}, "document deleted"...))
			rw.Flush()
			closing, err := readClientFrame(rw.Reader)
			if err != nil {
				return err
			}
			if closing.op != opClose {
				return errors.New("close not answered")
			}
			return nil
		}()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := dialWebSocket(ctx, u, 256, 1<<20, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.WriteBinary([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]byte{[]byte("fragmented"), big, {}} {
		got, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("message of %d bytes, want %d bytes", len(got), len(want))
		}
	}
	_, err = c.ReadMessage()
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 0x1133 || ce.Reason != "document deleted" {
		t.Fatalf("err %v, want close 4403 \"document deleted\"", err)
	}
	if err := <-serverErr; err != nil {
		t.Fatal(err)
	}
}

func TestWebSocketClientLimitsAndHandshakeErrors(t *testing.T) {
	u := wsTestServer(t, func(rw *bufio.ReadWriter) {
		writeServerFrame(rw, true, opBinary, make([]byte, 2000))
		rw.Flush()
		time.Sleep(100 * time.Millisecond)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := dialWebSocket(ctx, u, 256, 1024, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ReadMessage(); !errors.Is(err, errMessageTooBig) {
		t.Fatalf("err %v, want errMessageTooBig", err)
	}

	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad token", http.StatusUnauthorized)
	}))
	defer refuse.Close()
	ru, _ := url.Parse(refuse.URL)
	ru.Scheme = "ws"
	if _, err := dialWebSocket(ctx, ru, 256, 1024, time.Second); err == nil || !bytes.Contains([]byte(err.Error()), []byte("401")) {
		t.Fatalf("err %v, want the HTTP 401 reported", err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	if _, err := dialWebSocket(ctx, &url.URL{Scheme: "ws", Host: addr, Path: "/"}, 256, 1024, time.Second); err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
}

func TestLossKind(t *testing.T) {
	for err, want := range map[error]string{
		&CloseError{Code: 4501}: "close code 4501",
		io.EOF:                  "closed without a close frame",
		fmt.Errorf("read: %w", io.ErrUnexpectedEOF):       "closed without a close frame",
		&net.OpError{Op: "read", Err: syscall.ECONNRESET}: "reset",
		errors.New("websocket protocol error: bad frame"): "other error",
	} {
		if got := lossKind(err); got != want {
			t.Errorf("%v: %q, want %q", err, got, want)
		}
	}
}
