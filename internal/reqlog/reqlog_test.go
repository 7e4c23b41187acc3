package reqlog

import (
	"context"
	"log/slog"
	"sync"
	"testing"
)

func TestAdd(t *testing.T) {
	Add(context.Background(), slog.String("ignored", "no line")) // no panic without a line
	ctx, line := NewContext(context.Background(), "req-1")
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { Add(ctx, slog.Int("n", i)) })
	}
	wg.Wait()
	if got := len(line.Attrs()); got != 50 {
		t.Errorf("%d attrs, want 50", got)
	}
}

func TestRequestID(t *testing.T) {
	if got := RequestID(context.Background()); got != "" {
		t.Errorf("outside a request: %q, want none", got)
	}
	type other struct{} // a value of someone else's beside the id
	ctx, _ := NewContext(context.Background(), "req-1")
	if got := RequestID(context.WithValue(ctx, other{}, 1)); got != "req-1" {
		t.Errorf("RequestID = %q, want req-1", got)
	}
}
