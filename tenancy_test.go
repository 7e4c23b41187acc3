package main

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// client talks to a running server with one key.
type client struct {
	t    *testing.T
	base string
	auth string // full Authorization header value
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func (c client) do(method, path, body string) (int, string, http.Header) {
	c.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (c client) graphql(q string) (int, string) {
	status, body, _ := c.do("POST", "/graphql", fmt.Sprintf(`{"query":%q}`, q))
	return status, body
}

// tenancyDB builds a database with two organisations whose customers share
// every identifier (id, mobile, email, external id) but not their data, and
// a customer only org B has. It returns KEY:SECRET credentials per org.
func tenancyDB(t *testing.T, dsn string) (db string, keys map[string]string) {
	db = dsn
	runCmd := func(stdin string, args ...string) string { return runIn(t, db, stdin, args...) }
	for _, org := range []string{"a", "b"} {
		data := fmt.Sprintf(`{"record":"customer","id":7,"mobile":"9100","email":"same@x.com","external_id":"E7"}
{"record":"message","id":70,"customer_id":7,"network":"capillary","type":"sms","subject":"subject of org %[1]s","body":"Your OTP is 482913","status":"DELIVERED","sent_at":"2025-01-01T00:00:00Z"}
{"record":"message","id":71,"customer_id":7,"network":"capillary","type":"email","subject":"Your verification code is 739146","body":"hello","status":"OPENED","sent_at":"2025-01-02T00:00:00Z"}
`, org)
		if org == "b" {
			data += `{"record":"customer","id":8,"mobile":"9200","email":"only-b@x.com","external_id":"E8"}` + "\n"
		}
		runCmd(data, "import", "--org", org, "-")
	}
	keys = map[string]string{
		"a":     runCmd("", "keys", "create", "--org", "a"),
		"b":     runCmd("", "keys", "create", "--org", "b"),
		"a-otp": runCmd("", "keys", "create", "--org", "a", "--scopes", "read,otp:read"),
	}
	runCmd("", "orgs", "set", "--org", "a", "--mask-otp", "true")
	return db, keys
}

func keyClient(t *testing.T, base, cred string) client {
	id, secret, _ := strings.Cut(cred, ":")
	return client{t: t, base: base, auth: basicAuth(id, secret)}
}

func TestTenantIsolation(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		db, keys := tenancyDB(t, dsn)
		base := startServer(t, db, "--demo=false")
		a, b := keyClient(t, base, keys["a"]), keyClient(t, base, keys["b"])

		// B's own customer is not found for A through every transport.
		for _, path := range []string{
			"/v1.1/customer/interaction?mobile=9200&format=json", "/v1.1/customer/interaction?id=8&format=xml",
			"/v1.1/customer/interaction?external_id=E8", "/v2/customers/interaction?identifierName=email&identifierValue=only-b%40x.com",
		} {
			if status, body, _ := a.do("GET", path, ""); status != 404 || strings.Contains(body, "only-b") && !strings.Contains(path, "only-b") {
				t.Errorf("A %s = %d %s", path, status, body)
			}
			if status, _, _ := b.do("GET", path, ""); status != 200 {
				t.Errorf("B %s = %d", path, status)
			}
		}
		for _, arg := range []string{`mobile: "9200"`, `id: "8"`, `email: "only-b@x.com"`, `externalId: "E8"`} {
			if _, body := a.graphql(`{ customer(` + arg + `) { id } }`); body != `{"data":{"customer":null}}` {
				t.Errorf("A GraphQL %s = %s", arg, body)
			}
		}

		// Shared identifiers: each key sees its own organisation's data, also
		// when both organisations' requests run concurrently.
		var wg sync.WaitGroup
		for i := range 40 {
			for org, c := range map[string]client{"a": a, "b": b} {
				wg.Go(func() {
					want, other := "subject of org "+org, "subject of org "+map[string]string{"a": "b", "b": "a"}[org]
					var body string
					switch i % 3 {
					case 0:
						_, body = c.graphql(`{ customers(by: MOBILE, values: ["9100", "9200"]) { id interactions(type: SMS) { interactions { messages { subject } } } } }`)
					case 1:
						_, body, _ = c.do("GET", "/v1.1/customer/interaction?external_id=E7&format=json", "")
					case 2:
						_, body, _ = c.do("GET", "/v2/customers/interaction?identifierName=id&identifierValue=7&type=sms", "")
					}
					if !strings.Contains(body, want) || strings.Contains(body, other) {
						t.Errorf("org %s request %d saw %s", org, i, body)
					}
					if org == "a" && i%3 == 0 && !strings.Contains(body, `[{"id":"7"`) || org == "a" && strings.Contains(body, `"id":"8"`) {
						t.Errorf("org a batch leaked: %s", body)
					}
				})
			}
		}
		wg.Wait()
	})
}

func TestRateLimitPerKey(t *testing.T) {
	db, keys := tenancyDB(t, filepath.Join(t.TempDir(), "tenancy.db"))
	base := startServer(t, db, "--demo=false")
	noisy, quiet := keyClient(t, base, keys["a"]), keyClient(t, base, keys["b"])
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	work := make(chan client)
	for range 8 {
		wg.Go(func() {
			for c := range work {
				status, body, h := c.do("GET", "/v2/customers/interaction?identifierName=mobile&identifierValue=9100", "")
				who := "noisy"
				if c.auth == quiet.auth {
					who = "quiet"
				}
				mu.Lock()
				counts[fmt.Sprintf("%s %d", who, status)]++
				mu.Unlock()
				if h.Get("X-RateLimit-Limit") != "1000" || h.Get("X-RateLimit-Remaining") == "" || h.Get("X-RateLimit-Reset") == "" {
					t.Errorf("rate headers missing: %v", h)
				}
				if status == 429 && (h.Get("Retry-After") == "" || !strings.HasPrefix(body, `{"errors":[{"code":429,"message":"rate limit of 1000 requests a minute exceeded; retry in `)) {
					t.Errorf("malformed 429: %v %q", h, body)
				}
			}
		})
	}
	for i := range 1100 {
		work <- noisy
		if i%5 == 0 {
			work <- quiet
		}
	}
	close(work)
	wg.Wait()
	if counts["noisy 429"] < 100 || counts["quiet 200"] != 220 || counts["quiet 429"] != 0 {
		t.Errorf("counts = %v; want >=100 noisy 429s and every quiet request served", counts)
	}
	// GraphQL answers over the limit with its own error shape.
	if status, body := noisy.graphql(`{ __typename }`); status != 429 || !strings.Contains(body, `"code":"RATE_LIMITED"`) {
		t.Errorf("GraphQL over limit = %d %s", status, body)
	}
}

func TestOTPMaskingEverywhere(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		db, keys := tenancyDB(t, dsn)
		base, logs := startServerLogs(t, db, "--demo=false", "--log-format", "json")
		masked, clear := keyClient(t, base, keys["a"]), keyClient(t, base, keys["a-otp"])
		requests := []func(c client) string{
			func(c client) string {
				_, b := c.graphql(`{ customer(id: "7") { interactions { interactions { messages { subject body } } } } }`)
				return b
			},
			func(c client) string {
				_, b, _ := c.do("GET", "/v1.1/customer/interaction?id=7&format=json", "")
				return b
			},
			func(c client) string {
				_, b, _ := c.do("GET", "/v1.1/customer/interaction?id=7&format=xml", "")
				return b
			},
			func(c client) string {
				_, b, _ := c.do("GET", "/v2/customers/interaction?identifierName=id&identifierValue=7", "")
				return b
			},
			func(c client) string { // an error response mentioning the request
				_, b := c.graphql(`{ customer(id: "7") { interactions(since: "482913") { network } } }`)
				return b
			},
		}
		for i, req := range requests {
			out := req(masked)
			for _, otp := range []string{"482913", "739146"} {
				if i < 4 && strings.Contains(out, otp) {
					t.Errorf("request %d without otp:read shows %s: %s", i, otp, out)
				}
			}
			if i < 4 && !strings.Contains(out, "******") {
				t.Errorf("request %d: no masked code in %s", i, out)
			}
			if i < 2 && !strings.Contains(req(clear), "739146") {
				t.Errorf("request %d: otp:read key does not see the code", i)
			}
		}
		// A request after the others, whose line is awaited: the log is
		// written in batches, and everything before it is then in.
		masked.do("GET", "/logged-after-the-otps", "")
		if l := logs.Await("/logged-after-the-otps"); !strings.Contains(l, "/logged-after-the-otps") || strings.Contains(l, "739146") || strings.Contains(l, "482913") {
			t.Error("an OTP reached the log, or the log did not arrive")
		}
	})
}

func TestBadCredentials(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		db, keys := tenancyDB(t, dsn)
		base := startServer(t, db, "--demo=false")
		id, secret, _ := strings.Cut(keys["a"], ":")
		sum := md5.Sum([]byte(secret))
		good := []string{basicAuth(id, secret), basicAuth(id, hex.EncodeToString(sum[:]))}
		for _, h := range good {
			if status, _, _ := (client{t, base, h}).do("GET", "/v2/customers/interaction?identifierName=id&identifierValue=7", ""); status != 200 {
				t.Errorf("good credentials %q = %d", h, status)
			}
		}
		var out, errOut strings.Builder
		if err := run(context.Background(), []string{"keys", "revoke", id, "--db", db}, getenvFrom(nil), strings.NewReader(""), &out, &errOut); err != nil {
			t.Fatal(err, errOut.String())
		}
		// A server over PostgreSQL hears of the revocation by notification,
		// within milliseconds; over SQLite it reads the key on the next
		// request.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			status, _, _ := (client{t, base, good[0]}).do("GET", "/v2/customers/interaction?identifierName=id&identifierValue=7", "")
			if status == 401 || time.Now().After(deadline) {
				break
			}
		}
		for _, h := range append(good, "", "Basic", "Basic !!!", "Bearer x", basicAuth(id, ""), basicAuth("", secret), basicAuth("tp_unknown", secret)) {
			for _, path := range []string{"/v2/customers/interaction?identifierName=id&identifierValue=7", "/v1.1/customer/interaction?id=7", "/graphql?query=%7B__typename%7D"} {
				status, body, hdr := (client{t, base, h}).do("GET", path, "")
				if status != 401 || hdr.Get("WWW-Authenticate") == "" || strings.Contains(body, secret) {
					t.Errorf("%q %s = %d %s", h, path, status, body)
				}
			}
		}
	})
}
