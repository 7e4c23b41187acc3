package main

import (
	"context"
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
	cmd := func(stdin string, args ...string) string {
		t.Helper()
		var out, errOut strings.Builder
		if err := run(context.Background(), append(args, "--db", dsn), getenvFrom(nil), strings.NewReader(stdin), &out, &errOut); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errOut.String())
		}
		return strings.TrimSpace(out.String())
	}
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
