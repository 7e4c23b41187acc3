package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/pgtest"
	"github.com/touchpoint/touchpoint/internal/redistest"
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

// keyWithRate creates organisation acme in the SQLite file at path and a
// key for it limited to rate requests a minute; it returns KEY:SECRET.
func keyWithRate(t *testing.T, path string, rate string) string {
	t.Helper()
	var out, errOut strings.Builder
	if err := run(context.Background(), []string{"keys", "create", "--org", "acme", "--rate", rate, "--db", path}, getenvFrom(nil), strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("keys create: %v\n%s", err, errOut.String())
	}
	return strings.TrimSpace(out.String())
}

// limitedClient is a client for the key KEY:SECRET on base.
func limitedClient(t *testing.T, base, cred string) client {
	id, secret, _ := strings.Cut(cred, ":")
	return client{t: t, base: base, auth: basicAuth(id, secret)}
}

// sendN sends n v2 requests one after another and returns how many were
// served (not 429).
func sendN(c client, n int) (served int) {
	c.t.Helper()
	for range n {
		status, _, _ := c.do("GET", "/v2/customers/interaction?identifierName=mobile&identifierValue=1", "")
		if status != http.StatusTooManyRequests {
			served++
		}
	}
	return served
}

// TestPausedRedis: with the replicas' Redis paused (SIGSTOP on a
// redis-server of the test's own), requests are still served and a key's
// limit still holds, enforced by the replica alone (that they stop waiting
// on Redis is ratelimit's TestSharedPausedRedis); the outage is
// logged once and shows in /readyz and /metrics; and the replica shares
// its limits again once Redis resumes.
func TestPausedRedis(t *testing.T) {
	rs := redistest.Start(t, "")
	path := filepath.Join(t.TempDir(), "touchpoint.db")
	cred := keyWithRate(t, path, "20")
	base, logs := startServerLogs(t, path, "--demo=false", "--redis", rs.Addr)
	c := limitedClient(t, base, cred)
	rs.Pause()
	if served := sendN(c, 60); served != 20 {
		t.Errorf("%d of 60 requests served with Redis paused, want the key's 20", served)
	}
	anon := client{t: t, base: base}
	if status, body, _ := anon.do("GET", "/readyz", ""); status != 200 || !strings.Contains(body, "degraded: rate limits") {
		t.Errorf("/readyz during the outage: %d %q", status, body)
	}
	if _, body, _ := anon.do("GET", "/metrics", ""); !strings.Contains(body, "\ntouchpoint_redis_up 0\n") {
		t.Error("/metrics does not show touchpoint_redis_up 0 during the outage")
	}
	rs.Resume()
	for deadline := time.Now().Add(10 * time.Second); ; {
		c.do("GET", "/v2/customers/interaction?identifierName=mobile&identifierValue=1", "")
		if _, body, _ := anon.do("GET", "/metrics", ""); strings.Contains(body, "\ntouchpoint_redis_up 1\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replica did not return to Redis after it resumed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, body, _ := anon.do("GET", "/readyz", ""); body != "ready\n" {
		t.Errorf("/readyz after the outage: %q", body)
	}
	if n := strings.Count(logs.Await("redis unreachable"), "redis unreachable"); n != 1 {
		t.Errorf("outage logged %d times, want once:\n%s", n, logs)
	}
	if n := strings.Count(logs.Await("redis reachable again"), "redis reachable again"); n != 1 {
		t.Errorf("recovery logged %d times, want once:\n%s", n, logs)
	}
}

// TestServeWithoutRedis: serve --redis starts while Redis is down, limits
// each key on its own, and joins Redis when it comes up.
func TestServeWithoutRedis(t *testing.T) {
	addr := redistest.FreeAddr(t)
	path := filepath.Join(t.TempDir(), "touchpoint.db")
	cred := keyWithRate(t, path, "5")
	base, _ := startServerLogs(t, path, "--demo=false", "--redis", addr)
	c := limitedClient(t, base, cred)
	if served := sendN(c, 12); served != 5 {
		t.Errorf("%d of 12 served without Redis, want the key's 5", served)
	}
	anon := client{t: t, base: base}
	if _, body, _ := anon.do("GET", "/readyz", ""); !strings.Contains(body, "redis unreachable") {
		t.Errorf("/readyz without Redis: %q", body)
	}
	redistest.Start(t, addr)
	for deadline := time.Now().Add(10 * time.Second); ; {
		c.do("GET", "/v2/customers/interaction?identifierName=mobile&identifierValue=1", "") // a probe
		if _, body, _ := anon.do("GET", "/readyz", ""); body == "ready\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("serve did not join Redis once it started")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
