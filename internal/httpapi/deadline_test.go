package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/httpapi"
)

// stalled is a handler whose store never answers: it waits for its
// context, as a driver does, and writes the error the wait ended with.
func stalled(ew httpapi.ErrorWriter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		ew(w, r, r.Context().Err())
	}
}

// observed records what the access log reports to metrics.
type observed struct {
	mu       sync.Mutex
	statuses []int
}

func (o *observed) ObserveRequest(route string, status int, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.statuses = append(o.statuses, status)
}
func (o *observed) ObserveRateLimited(string) {}
func (o *observed) ObserveBatch(string, int)  {}
func (o *observed) last() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.statuses) == 0 {
		return 0
	}
	return o.statuses[len(o.statuses)-1]
}

// TestRequestDeadline: a request whose store does not answer gets 503 with
// Retry-After in its route's format within the request deadline, whether
// it stalls in the handler or waits for a turn behind stalled requests.
func TestRequestDeadline(t *testing.T) {
	cfg := httpapi.DefaultConfig()
	cfg.RequestTimeout = 150 * time.Millisecond
	cfg.MaxInFlight = 1
	obs := &observed{}
	f := newFixtureConfig(t, cfg, 1000, func(d *httpapi.Deps) {
		d.V2 = stalled(restError)
		d.Observer = obs
	})
	tests := []struct{ path, want string }{
		{"/v2/customers/interaction?mobile=1", `{"rest_error":"the service did not answer in time; retry later"}`},
	}
	for _, tt := range tests {
		start := time.Now()
		resp, body := f.do(t, "GET", tt.path, f.key, nil)
		took := time.Since(start)
		if resp.StatusCode != 503 || strings.TrimSpace(body) != tt.want || resp.Header.Get("Retry-After") != "1" {
			t.Errorf("%s: %d %s (Retry-After %q), want 503 %s", tt.path, resp.StatusCode, body, resp.Header.Get("Retry-After"), tt.want)
		}
		if took > cfg.RequestTimeout+time.Second {
			t.Errorf("%s: answered after %v, deadline %v", tt.path, took, cfg.RequestTimeout)
		}
		if got := obs.last(); got != 503 {
			t.Errorf("%s: observed %d, want 503", tt.path, got)
		}
	}

}

// TestQueuedPastDeadline: with the one turn held by a request that will not
// finish in time, the next waits for a turn and runs out of its deadline in
// the queue: 503, never a hang or an empty answer.
func TestQueuedPastDeadline(t *testing.T) {
	cfg := httpapi.DefaultConfig()
	cfg.RequestTimeout = 150 * time.Millisecond
	cfg.MaxInFlight = 1
	release := make(chan struct{})
	f := newFixtureConfig(t, cfg, 1000, func(d *httpapi.Deps) {
		d.V2 = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release })
	})
	done := make(chan struct{})
	go func() { f.do(t, "GET", "/v2/customers/interaction?mobile=1", f.key, nil); close(done) }()
	time.Sleep(20 * time.Millisecond)
	resp, body := f.do(t, "GET", "/v2/customers/interaction?mobile=2", f.key, nil)
	if resp.StatusCode != 503 || !strings.Contains(body, "busy") || resp.Header.Get("Retry-After") == "" {
		t.Errorf("queued past the deadline: %d %s", resp.StatusCode, body)
	}
	close(release)
	<-done
}

// TestClientGone: a client that hangs up is logged at INFO and counted as
// 499, not as a server error, whatever the handler made of its cancelled
// context.
func TestClientGone(t *testing.T) {
	obs := &observed{}
	f := newFixture(t, 1000, func(d *httpapi.Deps) {
		d.V2 = stalled(restError)
		d.Observer = obs
	})
	user, pass, _ := strings.Cut(f.key, ":")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/v2/customers/interaction?mobile=1", nil)
	req.SetBasicAuth(user, pass)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("the hung-up request was answered")
	}
	var line map[string]any
	deadline := time.Now().Add(5 * time.Second)
	for line == nil && time.Now().Before(deadline) {
		for l := range strings.SplitSeq(f.logs.String(), "\n") {
			if strings.Contains(l, `"msg":"request"`) {
				json.Unmarshal([]byte(l), &line)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if line == nil {
		t.Fatal("no access log line")
	}
	if line["status"] != float64(httpapi.StatusClientClosedRequest) || line["level"] != "INFO" {
		t.Errorf("access log: status %v level %v, want 499 INFO", line["status"], line["level"])
	}
	if got := obs.last(); got != 499 {
		t.Errorf("observed %d, want 499", got)
	}
	if strings.Contains(f.logs.String(), `"level":"ERROR"`) {
		t.Errorf("a client hanging up logged an error:\n%s", f.logs)
	}
}
