package httpapi

import (
	"io"
	"net"
	"strings"
	"testing"
)

// TestHeldConnReadFromKeepsOrder: a copy into a connection that is holding
// goes behind what it holds, not past it onto the wire.
func TestHeldConnReadFromKeepsOrder(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := &heldConn{Conn: a}
	c.hold()
	c.Write([]byte("head "))
	got := make(chan string, 1)
	go func() {
		buf, _ := io.ReadAll(io.LimitReader(b, int64(len("head body"))))
		got <- string(buf)
	}()
	if _, err := c.ReadFrom(strings.NewReader("body")); err != nil {
		t.Fatal(err)
	}
	if err := c.send(); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "head body" {
		t.Errorf("the wire carried %q, want %q", s, "head body")
	}
}
