package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/httpapi"
)

// TestMaxInFlight: no more than MaxInFlight API requests run at once; the
// others wait their turn and are all served, and a request whose client
// gives up while queued never runs.
func TestMaxInFlight(t *testing.T) {
	var running, most, served atomic.Int32
	release := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := running.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		running.Add(-1)
		served.Add(1)
		w.Write([]byte("{}"))
	})
	f := newFixture(t, 1000, func(d *httpapi.Deps) { d.V2 = slow })
	cfg := httpapi.DefaultConfig()
	cfg.MaxInFlight = 2
	srv := httpapi.NewServer(cfg, f.deps)
	f.srv.Config.Handler = srv

	user, pass, _ := strings.Cut(f.key, ":")
	get := func(ctx context.Context) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/v2/customers/interaction", nil)
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if status, err := get(context.Background()); err != nil || status != 200 {
				t.Errorf("queued request: %d %v", status, err)
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for running.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	// One more, given up while it waits behind the others.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	if _, err := get(ctx); err == nil {
		t.Error("a request given up while queued was answered")
	}
	cancel()
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if m := most.Load(); m != 2 {
		t.Errorf("at most %d requests ran at once, want 2", m)
	}
	if n := served.Load(); n != 6 {
		t.Errorf("served %d requests, want the 6 that waited (the abandoned one must not run)", n)
	}
}
