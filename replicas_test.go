package main

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/touchpoint/touchpoint/internal/pgtest"
)

// TestTwoReplicas runs two servers on different loopback ports over one
// PostgreSQL database and one Redis, as a load balancer would see them:
// a key's traffic alternates between them, the key's limit holds for the
// two together, and both answer byte for byte the same.
func TestTwoReplicas(t *testing.T) {
	redisAddr := os.Getenv("TOUCHPOINT_TEST_REDIS")
	if redisAddr == "" {
		t.Skip("TOUCHPOINT_TEST_REDIS is not set (scripts/test starts a redis-server); skipping the two-replica test")
	}
	dsn := pgtest.DSN(t)
	cmd := func(stdin string, args ...string) string { return runIn(t, dsn, stdin, args...) }
	// Migrations are a step of their own, before any replica starts.
	cmd("", "migrate")
	cmd(`{"record":"customer","id":1,"mobile":"9100","email":"a@x.com"}
{"record":"message","id":10,"customer_id":1,"network":"capillary","type":"sms","subject":"hello","status":"DELIVERED","sent_at":"2025-01-01T00:00:00Z","delivered_at":"2025-01-01T00:00:03Z"}
{"record":"message","id":11,"customer_id":1,"network":"capillary","type":"email","subject":"news","status":"OPENED","sent_at":"2025-01-02T00:00:00Z"}
`, "import", "--org", "acme", "-")
	key := cmd("", "keys", "create", "--org", "acme", "--rate", "50")
	id, secret, _ := strings.Cut(key, ":")

	replicas := []client{
		{t: t, base: startServer(t, dsn, "--demo=false", "--redis", redisAddr), auth: basicAuth(id, secret)},
		{t: t, base: startServer(t, dsn, "--demo=false", "--redis", redisAddr), auth: basicAuth(id, secret)},
	}
	paths := []string{
		"/v1.1/customer/interaction?mobile=9100&format=json",
		"/v1.1/customer/interaction?mobile=9100&format=xml",
		"/v2/customers/interaction?identifierName=mobile&identifierValue=9100",
	}
	// Identical payloads from both.
	for _, p := range paths {
		_, a, _ := replicas[0].do("GET", p, "")
		_, b, _ := replicas[1].do("GET", p, "")
		if a != b || a == "" {
			t.Errorf("%s differs between replicas:\n%s\n%s", p, a, b)
		}
	}
	_, ga := replicas[0].graphql(`{ customer(mobile: "9100") { id interactions { network interactions { type count messages { id subject sentAt deliveredAt } } } } }`)
	_, gb := replicas[1].graphql(`{ customer(mobile: "9100") { id interactions { network interactions { type count messages { id subject sentAt deliveredAt } } } } }`)
	if ga != gb || !strings.Contains(ga, `"hello"`) {
		t.Errorf("GraphQL differs between replicas:\n%s\n%s", ga, gb)
	}
	// 8 requests so far; 52 more alternating make 60: the key's 50 a
	// minute hold across both, so exactly 10 are refused.
	limited := 0
	for i := range 52 {
		status, _, h := replicas[i%2].do("GET", paths[2], "")
		if status == http.StatusTooManyRequests {
			limited++
			if h.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		}
	}
	if limited != 10 {
		t.Errorf("%d requests refused, want 10 (50 a minute across both replicas)", limited)
	}
}

// TestRevocationWithReadReplica: a server whose queries go to a read
// replica (--read-db) reads the credentials there too, and must still
// refuse a revoked key on its very next request. The revocation is
// written to the primary; the store keeps no credentials between requests
// while it has a replica (postgres/credentials.go), because the
// notifications that keep a cache exact come from the primary and may
// overtake the replica. Here the replica is the same database behind a
// proxy of its own (another address, as a replica would have; this test
// has no streaming replica, so it cannot show lag, only that nothing is
// kept across the revocation). No retry loop: the next request must be
// refused.
func TestRevocationWithReadReplica(t *testing.T) {
	dsn := pgtest.DSN(t)
	replica := pgtest.Via(t, dsn, pgtest.NewProxy(t, pgtest.Host(t, dsn)).Addr())
	cmd := func(stdin string, args ...string) string { return runIn(t, dsn, stdin, args...) }
	cmd("", "migrate")
	cmd(`{"record":"customer","id":1,"mobile":"9100"}`+"\n", "import", "--org", "acme", "-")
	key := cmd("", "keys", "create", "--org", "acme")
	id, secret, _ := strings.Cut(key, ":")
	c := client{t: t, base: startServer(t, dsn, "--demo=false", "--read-db", replica), auth: basicAuth(id, secret)}

	paths := []string{
		"/v2/customers/interaction?identifierName=mobile&identifierValue=9100",
		"/v1.1/customer/interaction?mobile=9100&format=json",
		"/graphql?query=%7B__typename%7D",
	}
	// Several requests each, so that anything the server might keep of
	// the key is there to be kept.
	for range 3 {
		for _, p := range paths {
			if status, body, _ := c.do("GET", p, ""); status != http.StatusOK {
				t.Fatalf("before revocation: GET %s = %d %s", p, status, body)
			}
		}
	}
	cmd("", "keys", "revoke", id)
	for _, p := range paths {
		if status, body, _ := c.do("GET", p, ""); status != http.StatusUnauthorized {
			t.Errorf("after revocation: GET %s = %d %s, want 401", p, status, body)
		}
	}
}
