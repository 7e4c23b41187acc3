package reqlog

import (
	"context"
	"log/slog"
	"sync"
	"testing"
)

func TestAdd(t *testing.T) {
	Add(context.Background(), slog.String("ignored", "no line")) // no panic without a line
	ctx, line := NewContext(context.Background())
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { Add(ctx, slog.Int("n", i)) })
	}
	wg.Wait()
	if got := len(line.Attrs()); got != 50 {
		t.Errorf("%d attrs, want 50", got)
	}
}
