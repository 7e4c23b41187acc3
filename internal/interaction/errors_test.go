package interaction

import (
	"context"
	"fmt"
	"testing"
)

type timeoutErr struct{ timeout bool }

func (e timeoutErr) Error() string   { return "i/o" }
func (e timeoutErr) Timeout() bool   { return e.timeout }
func (e timeoutErr) Temporary() bool { return true }

type sqlStateErr string

func (e sqlStateErr) Error() string    { return "sql: " + string(e) }
func (e sqlStateErr) SQLState() string { return string(e) }

// TestKindOfCauses: the drivers' own errors for waits that ran out and for
// callers that left are told apart from bugs, however deeply wrapped, and
// never leak their text.
func TestKindOfCauses(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), KindUnavailable},
		{"canceled", fmt.Errorf("query: %w", context.Canceled), KindCanceled},
		{"i/o timeout", fmt.Errorf("read: %w", timeoutErr{true}), KindUnavailable},
		{"other network error", timeoutErr{false}, KindInternal},
		{"statement timeout (57014)", fmt.Errorf("pg: %w", sqlStateErr("57014")), KindUnavailable},
		{"connection failure (08006)", sqlStateErr("08006"), KindUnavailable},
		{"syntax error (42601)", sqlStateErr("42601"), KindInternal},
		{"internal wrapping a deadline", &Error{Kind: KindInternal, Err: context.DeadlineExceeded}, KindUnavailable},
		{"a domain kind wins over its cause", &Error{Kind: KindNotFound, Message: "x", Err: context.DeadlineExceeded}, KindNotFound},
		{"nil", nil, KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.want {
				t.Errorf("KindOf = %v, want %v", got, tt.want)
			}
			if msg := MessageOf(tt.err); tt.err != nil && (msg == tt.err.Error() && tt.want != KindNotFound) {
				t.Errorf("MessageOf leaks the cause: %q", msg)
			}
		})
	}
}
