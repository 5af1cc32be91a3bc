package main

import (
	"net"
	"strconv"
	"testing"
	"time"
)

func TestSocketBacklogSeesUnreadBytes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	_, portText, _ := net.SplitHostPort(ln.Addr().String())
	port, _ := strconv.Atoi(portText)

	client.Write(make([]byte, 3000)) // the "server" does not read these
	server.Write(make([]byte, 500))  // nor the "tool" these
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := readSocketBacklog(port)
		if err != nil {
			t.Fatal(err)
		}
		if b.ServerRxBytes == 3000 && b.ToolRxBytes == 500 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("backlog %+v, want 3000 unread by the server and 500 by the tool", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
