package main

import (
	"io"
	"testing"
	"time"
)

func TestFlagsEnvAndPrecedence(t *testing.T) {
	t.Setenv("QUIRE_ADDR", "127.0.0.1:0")
	t.Setenv("QUIRE_IDLE_TIMEOUT", "5m")
	t.Setenv("QUIRE_CREATE_ON_CONNECT", "false")
	c, err := parseFlags([]string{"--idle-timeout", "7s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.addr != "127.0.0.1:0" || c.idleTimeout != 7*time.Second || c.createOnConnect {
		t.Errorf("got addr %q idle %v create %v", c.addr, c.idleTimeout, c.createOnConnect)
	}
	t.Setenv("QUIRE_PING_INTERVAL", "soon")
	if _, err := parseFlags(nil); err == nil {
		t.Error("a bad env value must be an error")
	}
}

func TestDefaults(t *testing.T) {
	c, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.addr != "localhost:8080" || c.dataDir != "./data" || !c.createOnConnect || c.maxMessageBytes != 16<<20 {
		t.Errorf("defaults: %+v", c)
	}
	if _, err := newLogger(io.Discard, "loud", "text"); err == nil {
		t.Error("bad log level accepted")
	}
	if _, err := newLogger(io.Discard, "info", "xml"); err == nil {
		t.Error("bad log format accepted")
	}
}
