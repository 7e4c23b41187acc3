package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"

	"testing"
	"time"

	"github.com/touchpoint/touchpoint/graph"
	"github.com/touchpoint/touchpoint/internal/auth"
	"github.com/touchpoint/touchpoint/internal/demo"
	"github.com/touchpoint/touchpoint/internal/httpapi"
	"github.com/touchpoint/touchpoint/internal/ratelimit"
	"github.com/touchpoint/touchpoint/internal/testenv"
)

// TestExpiredKeyOverCachedAnswers runs the real handler, response cache on
// as serve has it, on both stores: a key whose answers are cached on every
// route is refused from the instant it expires on the server's clock,
// which the test moves (nothing in the database changes at expiry, so no
// version moves and no cache is emptied). Its refusal is the one a wrong
// secret gets, in each route's envelope.
func TestExpiredKeyOverCachedAnswers(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		db := demoStore(t, dsn)
		clock := testenv.NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
		srv := httptest.NewServer(newHandler(httpapi.DefaultConfig(), db, slog.New(slog.DiscardHandler), ratelimit.NewMemory(),
			clock.Now, graph.HandlerConfig{Introspection: true}, "", 1<<20))
		t.Cleanup(srv.Close)

		expiry := clock.Now().Add(30 * 24 * time.Hour)
		id, secret, err := auth.CreateKey(context.Background(), db, demo.OrgName, auth.KeySpec{ExpiresAt: &expiry}, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		key := client{t, srv.URL, basicAuth(id, secret)}
		wrong := client{t, srv.URL, basicAuth(id, secret+"x")}
		forever := client{t, srv.URL, basicAuth(demoKeyID, demoSecret)}
		routes := []struct{ method, path, body string }{
			{"POST", "/graphql", fmt.Sprintf(`{"query":%q}`, `{ customer(mobile: "919988221100") { interactions(type: EMAIL) { interactions { messages { id } } } } }`)},
			{"GET", "/v1.1/customer/interaction?mobile=919988221100&format=json", ""},
			{"GET", "/v2/customers/interaction?identifierName=mobile&identifierValue=919988221100", ""},
		}
		const data = "1743467660038" // a message of the customer's, in every answer
		answered := func(c client, when string) {
			t.Helper()
			for _, rt := range routes {
				if status, body, _ := c.do(rt.method, rt.path, rt.body); status != 200 || !strings.Contains(body, data) {
					t.Errorf("%s %s: %d %s", when, rt.path, status, body)
				}
			}
		}
		answered(key, "before expiry")
		answered(key, "before expiry, again")
		if hits := cacheHits(t, srv.URL); hits < float64(len(routes)) {
			t.Fatalf("%v answers from the cache, want %d: the test would prove nothing", hits, len(routes))
		}
		clock.Set(expiry.Add(-time.Millisecond))
		answered(key, "a millisecond before expiry")

		for _, at := range []time.Duration{0, time.Millisecond, 365 * 24 * time.Hour} {
			clock.Set(expiry.Add(at))
			for _, rt := range routes {
				status, body, hdr := key.do(rt.method, rt.path, rt.body)
				wantStatus, wantBody, _ := wrong.do(rt.method, rt.path, rt.body)
				if status != 401 || wantStatus != 401 || body != wantBody || hdr.Get("WWW-Authenticate") == "" || strings.Contains(body, data) {
					t.Errorf("%v after expiry, %s: %d %s\nwant what a wrong secret gets: %d %s", at, rt.path, status, body, wantStatus, wantBody)
				}
			}
		}
		answered(forever, "a key without an expiry, a year after the other's")
	})
}
