package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/logtest"
	"github.com/touchpoint/touchpoint/internal/pgtest"
	"github.com/touchpoint/touchpoint/internal/playground"
)

func getenvFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// startServer runs the real program with `serve` on a free loopback port
// and returns its base URL. The server stops when the test ends, and the
// test checks it shut down cleanly.
func startServer(t *testing.T, dbPath string, extra ...string) string {
	t.Helper()
	base, _ := startServerLogs(t, dbPath, extra...)
	return base
}

// startServerLogs is startServer also returning the server's stderr (its
// log).
func startServerLogs(t *testing.T, dbPath string, extra ...string) (string, *logtest.Buffer) {
	t.Helper()
	return startServerEnv(t, nil, dbPath, extra...)
}

// startServerEnv is startServerLogs with an environment for the program.
func startServerEnv(t *testing.T, environ map[string]string, dbPath string, extra ...string) (string, *logtest.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &logtest.Buffer{}, &logtest.Buffer{}
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", dbPath}, extra...)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, getenvFrom(environ), strings.NewReader(""), stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server stopped with %v\nstderr:\n%s", err, stderr)
			}
		case <-time.After(30 * time.Second):
			t.Error("server did not shut down")
		}
	})
	re := regexp.MustCompile(`GraphQL endpoint:\s+(http://\S+)/graphql`)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			return m[1], stderr
		}
		select {
		case err := <-done:
			t.Fatalf("server exited early: %v\nstderr:\n%s", err, stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("server did not start; stdout:\n%s\nstderr:\n%s", stdout, stderr)
	return "", nil
}

func TestServeDemoEndToEnd(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		db := dsn
		base := startServer(t, db)

		anon := client{t: t, base: base}
		demo := client{t: t, base: base, auth: basicAuth(demoKeyID, demoSecret)}

		if status, _, _ := anon.do("GET", "/healthz", ""); status != 200 {
			t.Errorf("/healthz = %d", status)
		}
		if status, _, _ := anon.do("GET", "/readyz", ""); status != 200 {
			t.Errorf("/readyz = %d", status)
		}
		if status, _, _ := anon.do("GET", "/", ""); status != 200 {
			t.Errorf("playground = %d", status)
		}

		// GraphQL with the demo key finds the vendor-sample customer.
		q := `{"query":"{ customer(mobile: \"919988221100\") { id email interactions(type: EMAIL) { network interactions { type count messages { id } } } } }"}`
		status, body, _ := demo.do("POST", "/graphql", q)
		if status != 200 || !strings.Contains(body, `"email":"tom.sawyer@capillarytech.com"`) ||
			!strings.Contains(body, `"count":2`) || !strings.Contains(body, "1743467660038") {
			t.Errorf("GraphQL = %d %s", status, body)
		}

		// Both REST shims answer for the same customer.
		status, body, header := demo.do("GET", "/v1.1/customer/interaction?mobile=919988221100&format=json", "")
		if status != 200 || !strings.Contains(body, `"reciever":"aditi.khandelwal@capillarytech.com"`) {
			t.Errorf("v1.1 = %d %s", status, body)
		}
		if header.Get("X-Cap-Requestid") == "" {
			t.Error("v1.1 response has no X-Cap-Requestid")
		}
		status, body, _ = demo.do("GET", "/v2/customers/interaction?identifierName=mobile&identifierValue=917385022695&network=capillary", "")
		var v2 struct {
			Name        string `json:"name"`
			Interaction []struct {
				Name  string `json:"name"`
				Count int    `json:"count"`
			} `json:"interaction"`
		}
		if err := json.Unmarshal([]byte(body), &v2); status != 200 || err != nil || v2.Name != "capillary" {
			t.Errorf("v2 = %d %s (%v)", status, body, err)
		}

		// No credentials: 401 with a challenge.
		status, _, header = anon.do("GET", "/v2/customers/interaction?identifierName=mobile&identifierValue=917385022695", "")
		if status != 401 || header.Get("WWW-Authenticate") == "" {
			t.Errorf("unauthenticated = %d, WWW-Authenticate %q", status, header.Get("WWW-Authenticate"))
		}
		wrong := client{t: t, base: base, auth: basicAuth(demoKeyID, "wrong")}
		if status, _, _ := wrong.do("GET", "/v2/customers/interaction?identifierName=mobile&identifierValue=917385022695", ""); status != 401 {
			t.Errorf("wrong secret = %d", status)
		}
	})
}

func TestCommands(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		db := dsn
		ctx := context.Background()
		runCmd := func(stdin string, args ...string) (stdout, stderr string, err error) {
			var o, e bytes.Buffer
			err = run(ctx, append(args, "--db", db), getenvFrom(nil), strings.NewReader(stdin), &o, &e)
			return o.String(), e.String(), err
		}
		// keys create prints exactly one line: KEY:SECRET.
		out, _, err := runCmd("", "keys", "create", "--org", "acme", "--scopes", "read,otp:read", "--rate", "60")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 1 || !regexp.MustCompile(`^[^:\s]+:[^:\s]{20,}$`).MatchString(lines[0]) {
			t.Fatalf("keys create stdout = %q, want one KEY:SECRET line", out)
		}
		keyID := strings.SplitN(lines[0], ":", 2)[0]

		out, _, err = runCmd("", "keys", "list", "--org", "acme")
		if err != nil || !strings.Contains(out, keyID) || strings.Contains(out, strings.SplitN(lines[0], ":", 2)[1]) {
			t.Errorf("keys list = %q, %v (must show the key, never the secret)", out, err)
		}
		if _, _, err := runCmd("", "keys", "revoke", keyID); err != nil {
			t.Errorf("revoke: %v", err)
		}
		if out, _, _ := runCmd("", "keys", "list", "--org", "acme"); !strings.Contains(out, "revoked") {
			t.Errorf("after revoke, keys list = %q", out)
		}

		// import reports bad lines with their numbers, commits the good ones and
		// exits with the "rejected" code.
		ndjson := `{"record":"customer","id":1,"mobile":"9111","email":"a@b.c","external_id":""}
	{"record":"message","id":10,"customer_id":1,"network":"capillary","type":"sms","sender":"","receiver":"9111","subject":"hi","body":"","status":"DELIVERED","sent_at":"2025-01-01T00:00:00Z"}
	not json
	{"record":"message","id":11,"customer_id":999,"network":"capillary","type":"sms","sent_at":"2025-01-01T00:00:00Z"}
	`
		_, errOut, err := runCmd(ndjson, "import", "--org", "acme", "-")
		if exitCode(err) != exitRejected || !strings.Contains(errOut, "line 3") || !strings.Contains(errOut, "line 4") {
			t.Errorf("import: exit %d (%v), stderr %q", exitCode(err), err, errOut)
		}
		// Importing the same file again changes nothing and reports the same.
		if _, _, err := runCmd(ndjson, "import", "--org", "acme", "-"); exitCode(err) != exitRejected {
			t.Errorf("re-import: %v", err)
		}
		good := strings.Join(strings.Split(ndjson, "\n")[:2], "\n")
		if _, _, err := runCmd(good, "import", "--org", "acme", "-"); err != nil {
			t.Errorf("clean import: %v", err)
		}

		out, _, err = runCmd("", "orgs", "set", "--org", "acme", "--timezone", "Asia/Kolkata", "--mask-otp", "true", "--rate", "5")
		if err != nil || !strings.Contains(out, "timezone=Asia/Kolkata mask_otp=true rate_limit=5") {
			t.Errorf("orgs set = %q, %v", out, err)
		}
		if _, _, err := runCmd("", "orgs", "set", "--org", "acme", "--timezone", "Mars/Olympus"); exitCode(err) != exitUsage {
			t.Errorf("bad time zone: %v", err)
		}
		if _, _, err := runCmd("", "frobnicate"); exitCode(err) != exitUsage {
			t.Errorf("unknown command: %v", err)
		}
		if _, _, err := runCmd("", "migrate"); err != nil {
			t.Errorf("migrate: %v", err)
		}

		// demo writes NDJSON that starts with a record (and opens no
		// database, so it has no --db).
		var demoOut bytes.Buffer
		err = run(ctx, []string{"demo", "--customers", "3"}, getenvFrom(nil), strings.NewReader(""), &demoOut, io.Discard)
		out = demoOut.String()
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(strings.NewReader(out))
		if !sc.Scan() || !strings.HasPrefix(sc.Text(), `{"record":`) {
			t.Errorf("demo output starts %q", sc.Text())
		}
		_ = os.Remove(db)
	})
}

// TestMetrics: /metrics exposes the request, latency, error, rate-limit,
// loader, SQL and pool series after some traffic; the access log carries
// the GraphQL operation name and complexity.
func TestMetrics(t *testing.T) {
	base, logs := startServerLogs(t, filepath.Join(t.TempDir(), "touchpoint.db"), "--log-format", "json")
	c := client{t: t, base: base, auth: basicAuth(demoKeyID, demoSecret)}
	c.graphql(`query Dash { customers(by: ID, values: ["565039505", "565200001"]) { interactions { interactions { count messages { id } } } } }`)
	c.graphql(`{ nope }`)
	c.do("GET", "/v2/customers/interaction?identifierName=mobile&identifierValue=917385022695", "")
	status, body, _ := client{t: t, base: base}.do("GET", "/metrics", "")
	if status != 200 {
		t.Fatalf("/metrics = %d", status)
	}
	for _, series := range []string{
		`touchpoint_http_requests_total{code="200",route="graphql"}`,
		`touchpoint_http_requests_total{code="200",route="v2"}`,
		`touchpoint_http_request_duration_seconds_bucket{route="v2",le=`,
		`touchpoint_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"} 1`,
		`touchpoint_loader_batch_keys_bucket{loader="interactions",le=`,
		`touchpoint_loader_batch_keys_count{loader="customers"}`,
		`touchpoint_sql_statements_total`,
		`touchpoint_sql_pool_open_connections`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	if !strings.Contains(logs.Await(`"operation":"Dash","complexity":`), `"operation":"Dash","complexity":`) {
		t.Errorf("access log lacks the operation and complexity:\n%s", logs)
	}
}

// TestTracingExports: with OTEL_EXPORTER_OTLP_ENDPOINT set, request and SQL
// spans reach an OTLP/HTTP receiver.
func TestTracingExports(t *testing.T) {
	var mu sync.Mutex
	var got []byte
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/v1/traces" {
			mu.Lock()
			got = append(got, b...)
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer receiver.Close()
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50") // the SDK reads it from the process
	base, _ := startServerEnv(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.URL, "OTEL_SERVICE_NAME": "touchpoint-test"},
		filepath.Join(t.TempDir(), "touchpoint.db"))
	c := client{t: t, base: base, auth: basicAuth(demoKeyID, demoSecret)}
	req, _ := http.NewRequest("GET", base+"/v2/customers/interaction?identifierName=mobile&identifierValue=917385022695", nil)
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("request: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		b := append([]byte(nil), got...)
		mu.Unlock()
		if bytes.Contains(b, []byte("GET v2")) && bytes.Contains(b, []byte("sqlite query")) {
			if !bytes.Contains(b, []byte("touchpoint-test")) {
				t.Error("service name not exported")
			}
			// The request span joins the caller's trace.
			if !bytes.Contains(b, []byte{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6}) {
				t.Error("the incoming traceparent was not joined")
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no request and SQL spans exported (%d bytes received)", len(got))
}

// eachStore runs fn on a fresh SQLite file and, when
// TOUCHPOINT_TEST_POSTGRES names a server, on a fresh PostgreSQL database:
// the whole service must behave the same on both.
func eachStore(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "touchpoint.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, pgtest.DSN(t)) })
}

// openTestStore opens (and migrates) the store at dsn for tb, closed when
// tb ends.
func openTestStore(tb testing.TB, dsn string) store {
	tb.Helper()
	db, err := openStore(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// demoStore is openTestStore with the demo data loaded.
func demoStore(tb testing.TB, dsn string) store {
	tb.Helper()
	db := openTestStore(tb, dsn)
	if _, err := loadDemo(context.Background(), db, io.Discard); err != nil {
		tb.Fatal(err)
	}
	return db
}

// TestPlaygroundDefaultQuery: the query the playground opens with runs
// without errors against the demo data.
func TestPlaygroundDefaultQuery(t *testing.T) {
	base := startServer(t, filepath.Join(t.TempDir(), "touchpoint.db"))
	c := client{t: t, base: base, auth: basicAuth(demoKeyID, demoSecret)}
	status, body := c.graphql(playground.DefaultQuery)
	if status != 200 || strings.Contains(body, `"errors"`) || !strings.Contains(body, `"565039505"`) {
		t.Errorf("default query: %d %s", status, body)
	}
	// The example tabs run too, and show what they are there to show.
	for _, ex := range playground.Examples {
		status, body := c.graphql(ex.Query)
		if status != 200 || strings.Contains(body, `"errors"`) || !strings.Contains(body, map[string]string{
			"Timeline": `"endCursor":"`, "DeliveryCounts": `"statusCounts":[{"status":"`}[ex.Name]) {
			t.Errorf("example %s: %d %s", ex.Name, status, body)
		}
	}
}
