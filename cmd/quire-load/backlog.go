package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

// socketBacklog tells where undelivered bytes wait, from the kernel's TCP
// table: toolRx is what the server has written but the tool's editors have
// not read yet (the tool is behind), serverRx is what the editors sent but
// the server has not read yet (the server is behind on input). If latency
// is high while both are small, the delay is inside the server.
type socketBacklog struct {
	ToolRxBytes   uint64 `json:"tool_rx_bytes"`
	ServerRxBytes uint64 `json:"server_rx_bytes"`
}

// readSocketBacklog sums receive queues of TCP sockets on serverPort.
func readSocketBacklog(serverPort int) (socketBacklog, error) {
	var b socketBacklog
	for _, path := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(path)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			return b, err
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := bytes.Fields(sc.Bytes())
			if len(fields) < 5 {
				continue
			}
			localPort, ok1 := hexPort(fields[1])
			remotePort, ok2 := hexPort(fields[2])
			_, rxHex, ok3 := bytes.Cut(fields[4], []byte(":"))
			if !ok1 || !ok2 || !ok3 {
				continue
			}
			rx, err := strconv.ParseUint(string(rxHex), 16, 64)
			if err != nil {
				continue
			}
			switch serverPort {
			case remotePort:
				b.ToolRxBytes += rx
			case localPort:
				b.ServerRxBytes += rx
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return b, err
		}
	}
	return b, nil
}

// hexPort reads the port of a /proc/net/tcp address "0100007F:1F90".
func hexPort(addr []byte) (int, bool) {
	i := bytes.LastIndexByte(addr, ':')
	if i < 0 {
		return 0, false
	}
	p, err := strconv.ParseUint(string(addr[i+1:]), 16, 16)
	return int(p), err == nil
}
