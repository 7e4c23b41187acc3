package main

import (
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/pgtest"
)

// TestPausedPostgres: with PostgreSQL (or the network to it) silent, every
// API request is answered 503 with Retry-After within the request
// deadline, in its route's format, rather than hanging; /readyz says not
// ready; and the server serves again once PostgreSQL answers.
func TestPausedPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	proxy := pgtest.NewProxy(t, pgtest.Host(t, dsn))
	base, logs := startServerLogs(t, pgtest.Via(t, dsn, proxy.Addr()), "--request-timeout", "500ms")
	defer func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	}()
	c := client{t: t, base: base, auth: basicAuth(demoKeyID, demoSecret)}
	v2 := "/v2/customers/interaction?identifierName=mobile&identifierValue=919988221100"
	if status, body, _ := c.do("GET", v2, ""); status != 200 {
		t.Fatalf("before the stall: %d %s", status, body)
	}
	proxy.Pause()
	for _, tt := range []struct {
		name, method, path, body, want string
	}{
		{"v2", "GET", v2, "", `{"errors":[{"code":503,"message":"the service did not answer in time; retry later"}]}`},
		{"v1.1", "GET", "/v1.1/customer/interaction?mobile=919988221100&format=json", "", `"code":503`},
		{"graphql", "POST", "/graphql", `{"query":"{ customer(id: \"565039505\") { id } }"}`, `"code":"SERVICE_UNAVAILABLE"`},
	} {
		start := time.Now()
		status, body, h := c.do(tt.method, tt.path, tt.body)
		took := time.Since(start)
		if status != 503 || !strings.Contains(body, tt.want) || h.Get("Retry-After") == "" {
			t.Errorf("%s with PostgreSQL silent: %d %s (Retry-After %q), want 503 %s", tt.name, status, body, h.Get("Retry-After"), tt.want)
		}
		if took > 1500*time.Millisecond {
			t.Errorf("%s: answered after %v, past the 500ms deadline", tt.name, took)
		}
	}
	if status, _, _ := (client{t: t, base: base}).do("GET", "/readyz", ""); status != 503 {
		t.Errorf("/readyz with PostgreSQL silent: %d", status)
	}
	proxy.Resume()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body, _ := c.do("GET", v2, "")
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the stall: %d %s", status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
