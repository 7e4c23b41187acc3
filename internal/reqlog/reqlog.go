// Package reqlog lets code deep in a request add attributes to that
// request's access-log line (GraphQL's operation name and complexity, say)
// without depending on the HTTP package that writes it.
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
	mu    sync.Mutex
	attrs []slog.Attr
}

// NewContext returns ctx carrying a fresh Line, and the Line.
func NewContext(ctx context.Context) (context.Context, *Line) {
	l := &Line{}
	return context.WithValue(ctx, key{}, l), l
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
