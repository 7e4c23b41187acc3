// Package reqlog lets code deep in a request add attributes to that
// request's access-log line (GraphQL's operation name and complexity, say)
// and find the request's id (to log an internal error with it), without
// depending on the HTTP package that writes the line.
package reqlog

import (
	"context"
	"log/slog"
	"sync"
)

type key struct{}

// Line collects a request's extra log attributes; safe for concurrent use
// (GraphQL resolvers run in parallel).
type Line struct {
	id    string
	mu    sync.Mutex
	attrs []slog.Attr
}

// NewContext returns ctx carrying a fresh Line for the request with id,
// and the Line.
func NewContext(ctx context.Context, id string) (context.Context, *Line) {
	l := &Line{id: id}
	return context.WithValue(ctx, key{}, l), l
}

// RequestID is the id of the request ctx serves (the X-Cap-Requestid its
// client sees), or "" outside one: what an internal error is logged with,
// so that the client's id finds the details.
func RequestID(ctx context.Context) string {
	if l, ok := ctx.Value(key{}).(*Line); ok {
		return l.id
	}
	return ""
}

// Add appends attributes to the request's line; without one it does
// nothing.
func Add(ctx context.Context, attrs ...slog.Attr) {
	l, ok := ctx.Value(key{}).(*Line)
	if !ok {
		return
	}
	l.mu.Lock()
	l.attrs = append(l.attrs, attrs...)
	l.mu.Unlock()
}

// Attrs returns the attributes added so far.
func (l *Line) Attrs() []slog.Attr {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]slog.Attr(nil), l.attrs...)
}
