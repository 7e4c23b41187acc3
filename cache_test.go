package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/pgtest"
)

// runIn runs a touchpoint command against db, as an operator would, in
// this process.
func runIn(t *testing.T, db, stdin string, args ...string) string {
	t.Helper()
	var out, errOut strings.Builder
	if err := run(context.Background(), append(args, "--db", db), getenvFrom(nil), strings.NewReader(stdin), &out, &errOut); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, errOut.String())
	}
	return strings.TrimSpace(out.String())
}

// TestCacheKeepsTenantsScopesAndSettingsApart runs the real server, cache
// on (the default), over the tenancy database on both stores: every
// answer below is asked for again after it has been cached.
func TestCacheKeepsTenantsScopesAndSettingsApart(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		db, keys := tenancyDB(t, dsn)
		base := startServer(t, db, "--demo=false")
		a, b, aOTP := keyClient(t, base, keys["a"]), keyClient(t, base, keys["b"]), keyClient(t, base, keys["a-otp"])
		const v2 = "/v2/customers/interaction?identifierName=mobile&identifierValue=9100"
		const v11 = "/v1.1/customer/interaction?mobile=9100&format=json"
		const gql = `{ customer(mobile: "9100") { id interactions { network interactions { type messages { subject body sentAt } } } } }`
		ask := func(c client, what string) (string, string) {
			t.Helper()
			method, path, req := "GET", what, ""
			if what == "graphql" { // by POST, headers and all
				method, path, req = "POST", "/graphql", fmt.Sprintf(`{"query":%q}`, gql)
			}
			status, body, h := c.do(method, path, req)
			if status != 200 {
				t.Fatalf("%s: %d %s", what, status, body)
			}
			etag := ""
			if e := h["Etag"]; len(e) > 0 {
				etag = e[0]
			}
			return body, etag
		}

		// Two organisations, identical identifiers, identical requests.
		for _, what := range []string{v2, v11, "graphql"} {
			for round := range 2 {
				bodyA, tagA := ask(a, what)
				bodyB, tagB := ask(b, what)
				if !strings.Contains(bodyA, "subject of org a") || strings.Contains(bodyA, "org b") ||
					!strings.Contains(bodyB, "subject of org b") || strings.Contains(bodyB, "org a") {
					t.Errorf("%s round %d crossed:\nA %s\nB %s", what, round, bodyA, bodyB)
				}
				if tagA == "" || tagA == tagB {
					t.Errorf("%s: organisation a's answer tagged %q, b's %q; want two tags", what, tagA, tagB)
				}
			}
		}

		// Organisation a masks OTPs: only its otp:read key sees them,
		// whichever key's answer was cached first (v2 renders the
		// subject's code, GraphQL here the body's).
		otpIn := map[string]string{v2: "739146", "graphql": "482913"}
		for i, c := range []client{aOTP, a, aOTP, a} {
			for _, what := range []string{v2, "graphql"} {
				body, _ := ask(c, what)
				if unmasked := strings.Contains(body, otpIn[what]); unmasked != (c.auth == aOTP.auth) {
					t.Errorf("request %d %s: unmasked %v, by the otp:read key %v: %s", i, what, unmasked, c.auth == aOTP.auth, body)
				}
			}
		}

		// A settings change shows on the next request, over a cached answer.
		if body, _ := ask(a, v11); !strings.Contains(body, "2025-01-01 00:00:00") {
			t.Fatalf("v1.1 in UTC: %s", body)
		}
		runIn(t, db, "", "orgs", "set", "--org", "a", "--timezone", "Asia/Kolkata")
		if body, _ := ask(a, v11); !strings.Contains(body, "2025-01-01 05:30:00") {
			t.Errorf("v1.1 after the time zone changed to Asia/Kolkata: %s", body)
		}
		runIn(t, db, "", "orgs", "set", "--org", "a", "--mask-otp", "false")
		if body, _ := ask(a, v2); !strings.Contains(body, "739146") {
			t.Errorf("v2 after masking was switched off: %s", body)
		}

		// A revoked key is refused although its answer is cached. Over
		// PostgreSQL the server hears of the revocation by notification
		// (the credential cache, not the response cache), within
		// milliseconds; over SQLite on the next request.
		ask(b, v2)
		id, _, _ := strings.Cut(keys["b"], ":")
		runIn(t, db, "", "keys", "revoke", id)
		status := 0
		for deadline := time.Now().Add(5 * time.Second); status != 401 && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			status, _, _ = b.do("GET", v2, "")
			if !strings.HasPrefix(dsn, "postgres") {
				break
			}
		}
		for range 3 {
			if status, body, _ := b.do("GET", v2, ""); status != 401 || strings.Contains(body, "subject") {
				t.Errorf("revoked key: %d %s", status, body)
			}
		}
		if hits := cacheHits(t, base); hits < 10 {
			t.Errorf("%v answers served from the cache: the test proves nothing", hits)
		}
	})
}

// TestCacheAcrossReplicas: two servers over one PostgreSQL, each with its
// answers cached; after every import commit, every read on either server
// has the new data, also while their credential listeners are cut.
func TestCacheAcrossReplicas(t *testing.T) {
	dsn := pgtest.DSN(t)
	runIn(t, dsn, "", "migrate")
	importSubject := func(s string) {
		runIn(t, dsn, fmt.Sprintf(`{"record":"customer","id":1,"mobile":"9100"}
{"record":"message","id":10,"customer_id":1,"network":"capillary","type":"sms","subject":%q,"status":"DELIVERED","sent_at":"2025-01-01T00:00:00Z"}
`, s), "import", "--org", "acme", "-")
	}
	importSubject("version 0")
	id, secret, _ := strings.Cut(runIn(t, dsn, "", "keys", "create", "--org", "acme"), ":")
	replicas := []client{
		{t: t, base: startServer(t, dsn, "--demo=false"), auth: basicAuth(id, secret)},
		{t: t, base: startServer(t, dsn, "--demo=false"), auth: basicAuth(id, secret)},
	}
	pg, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	const path = "/v2/customers/interaction?identifierName=mobile&identifierValue=9100"
	const gql = `{ customer(mobile: "9100") { interactions { interactions { messages { subject } } } } }`
	read := func(c client, want string) {
		t.Helper()
		if status, body, _ := c.do("GET", path, ""); status != 200 || !strings.Contains(body, want) {
			t.Errorf("REST on %s: %d, want %q: %s", c.base, status, want, body)
		}
		if status, body := c.graphql(gql); status != 200 || !strings.Contains(body, want) {
			t.Errorf("GraphQL on %s: %d, want %q: %s", c.base, status, want, body)
		}
	}
	for i := 1; i <= 20; i++ {
		for _, c := range replicas {
			read(c, fmt.Sprintf("version %d", i-1)) // cached now
		}
		if i == 10 {
			// Cut both servers' listening connections: the versions are
			// read on every request whatever the listener knows.
			if _, err := pg.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE datname = current_database() AND application_name = $1`, "touchpoint credential listener"); err != nil {
				t.Fatal(err)
			}
		}
		importSubject(fmt.Sprintf("version %d", i))
		want := fmt.Sprintf("version %d", i)
		for range 3 {
			read(replicas[1], want)
			read(replicas[0], want)
		}
		if t.Failed() {
			t.Fatalf("stale after import %d", i)
		}
	}
	for _, c := range replicas {
		if hits := cacheHits(t, c.base); hits < 20 {
			t.Errorf("%s served %v answers from its cache: the test proves nothing", c.base, hits)
		}
	}
}

// cacheHits reads a server's count of answers served from its cache.
func cacheHits(t *testing.T, base string) float64 {
	t.Helper()
	_, body, _ := (client{t: t, base: base}).do("GET", "/metrics", "")
	for line := range strings.Lines(body) {
		if v, ok := strings.CutPrefix(line, "touchpoint_response_cache_hits_total "); ok {
			var n float64
			fmt.Sscan(v, &n)
			return n
		}
	}
	t.Fatalf("%s/metrics has no touchpoint_response_cache_hits_total", base)
	return 0
}
