package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/auth"
	"github.com/touchpoint/touchpoint/internal/httpapi"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/loader"
	"github.com/touchpoint/touchpoint/internal/respcache"
)

// answering is a handler that numbers its answers, so that a cached one
// can be told from a computed one, and says what it saw of the principal.
// ?status=N answers N; ?errors=1 answers 200 with a GraphQL error.
type answering struct{ calls atomic.Int64 }

func (a *answering) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := a.calls.Add(1)
	body, err := io.ReadAll(r.Body)
	if err != nil { // over the edge's limit, as the GraphQL transport answers it
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	p, _ := interaction.FromContext(r.Context())
	loader.For(r.Context()) // panics without loaders
	w.Header().Set("Content-Type", "application/json")
	status := http.StatusOK
	fmt.Sscan(r.URL.Query().Get("status"), &status)
	w.WriteHeader(status)
	if r.URL.Query().Get("errors") != "" {
		fmt.Fprintf(w, `{"errors":[{"message":"no"}],"data":{"n":%d}}`, n)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"n": n, "org": p.Org.Name, "tz": p.Org.TimeZone, "body": len(body),
		"masked": p.Org.MaskOTP && !p.Has(interaction.ScopeOTPRead)})
}

func cachedFixture(t *testing.T, rate int, opts ...func(*httpapi.Deps)) (*fixture, *answering) {
	t.Helper()
	a := &answering{}
	f := newFixtureConfig(t, httpapi.DefaultConfig(), rate, append([]func(*httpapi.Deps){func(d *httpapi.Deps) {
		d.GraphQL, d.V2, d.V11 = a, a, a
		d.Cache = respcache.New(1 << 20)
		d.Versions = d.Reader.(interaction.Versioner)
	}}, opts...)...)
	return f, a
}

// send is do with a string body ("" for none).
func (f *fixture) send(t *testing.T, method, path, cred, body string, header ...string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	return f.do(t, method, path, cred, rd, header...)
}

// bigBody is a GraphQL request over the 32 KiB whose answers are kept.
var bigBody = `{"query":"{ x }","variables":{"pad":"` + strings.Repeat("x", 33<<10) + `"}}`

type exchange struct {
	method, path, body string
	header             []string
}

// TestCacheAnswersOnce: requests that differ only in what cannot change
// the answer are answered once; those that can are answered apart, and
// errors are never kept.
func TestCacheAnswersOnce(t *testing.T) {
	for _, tt := range []struct {
		name      string
		first     exchange
		second    exchange
		wantCalls int64
		kept      bool // whether the answers are cacheable, with validators
	}{
		{"the same REST request", exchange{"GET", "/v2/customers/interaction?identifierName=id&identifierValue=7", "", nil},
			exchange{"GET", "/v2/customers/interaction?identifierName=id&identifierValue=7", "", nil}, 1, true},
		{"REST parameters in another order", exchange{"GET", "/v2/customers/interaction?identifierName=id&identifierValue=7", "", nil},
			exchange{"GET", "/v2/customers/interaction?identifierValue=7&identifierName=id", "", nil}, 1, true},
		{"another customer", exchange{"GET", "/v2/customers/interaction?identifierName=id&identifierValue=7", "", nil},
			exchange{"GET", "/v2/customers/interaction?identifierName=id&identifierValue=8", "", nil}, 2, true},
		{"the same question on another route", exchange{"GET", "/v2/customers/interaction?id=7", "", nil},
			exchange{"GET", "/v1.1/customer/interaction?id=7", "", nil}, 2, true},
		{"another Accept", exchange{"GET", "/v1.1/customer/interaction?id=7", "", nil},
			exchange{"GET", "/v1.1/customer/interaction?id=7", "", []string{"Accept", "application/xml"}}, 2, true},
		{"the same GraphQL POST", exchange{"POST", "/graphql", `{"query":"{ x }","variables":{"a":[1,2]}}`, nil},
			exchange{"POST", "/graphql", `{"query":"{ x }","variables":{"a":[1,2]}}`, nil}, 1, true},
		{"a GraphQL POST spaced otherwise (keyed as sent)", exchange{"POST", "/graphql", `{"query":"{ x }","variables":{"a":[1,2]}}`, nil},
			exchange{"POST", "/graphql", ` { "query" : "{ x }" , "variables" : { "a" : [ 1, 2 ] } } `, nil}, 2, true},
		{"GraphQL other variables", exchange{"POST", "/graphql", `{"query":"{ x }","variables":{"a":1}}`, nil},
			exchange{"POST", "/graphql", `{"query":"{ x }","variables":{"a":2}}`, nil}, 2, true},
		{"GraphQL another operation name", exchange{"POST", "/graphql", `{"query":"query A { x } query B { y }","operationName":"A"}`, nil},
			exchange{"POST", "/graphql", `{"query":"query A { x } query B { y }","operationName":"B"}`, nil}, 2, true},
		{"GraphQL POST without its Content-Type", exchange{"POST", "/graphql", `{"query":"{x}"}`, nil},
			exchange{"POST", "/graphql", `{"query":"{x}"}`, []string{"Content-Type", "text/plain"}}, 2, true},
		{"GraphQL with another Accept", exchange{"POST", "/graphql", `{"query":"{x}"}`, nil},
			exchange{"POST", "/graphql", `{"query":"{x}"}`, []string{"Accept", "application/graphql-response+json"}}, 2, true},
		{"GraphQL GET then POST", exchange{"GET", "/graphql?query=%7Bx%7D", "", nil},
			exchange{"POST", "/graphql", `{"query":"{x}"}`, nil}, 2, true},
		{"GraphQL GET", exchange{"GET", "/graphql?query=%7Bx%7D", "", nil}, exchange{"GET", "/graphql?query=%7Bx%7D", "", nil}, 1, true},
		{"a GraphQL body over 32 KiB", exchange{"POST", "/graphql", bigBody, nil}, exchange{"POST", "/graphql", bigBody, nil}, 2, false},
		{"a REST error", exchange{"GET", "/v2/customers/interaction?id=7&status=404", "", nil},
			exchange{"GET", "/v2/customers/interaction?id=7&status=404", "", nil}, 2, false},
		{"a GraphQL error", exchange{"GET", "/graphql?query=%7Bx%7D&errors=1", "", nil},
			exchange{"GET", "/graphql?query=%7Bx%7D&errors=1", "", nil}, 2, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, a := cachedFixture(t, 0)
			r1, b1 := f.send(t, tt.first.method, tt.first.path, f.key, tt.first.body, tt.first.header...)
			r2, b2 := f.send(t, tt.second.method, tt.second.path, f.key, tt.second.body, tt.second.header...)
			if tt.first.body != "" && !strings.Contains(b1, fmt.Sprintf(`"body":%d`, len(tt.first.body))) {
				t.Errorf("the handler did not get the whole body: %s", b1)
			}
			if got := a.calls.Load(); got != tt.wantCalls {
				t.Errorf("handler ran %d times, want %d\n%s\n%s", got, tt.wantCalls, b1, b2)
			}
			if tt.wantCalls == 1 && (b1 != b2 || r1.Header.Get("ETag") != r2.Header.Get("ETag")) {
				t.Errorf("a cached answer differs: %s %s / %s %s", r1.Header.Get("ETag"), b1, r2.Header.Get("ETag"), b2)
			}
			for _, r := range []*http.Response{r1, r2} {
				hasValidators := r.Header.Get("ETag") != "" && r.Header.Get("Cache-Control") == "private, no-cache" &&
					strings.Contains(r.Header.Get("Vary"), "Authorization")
				if hasValidators != tt.kept {
					t.Errorf("validators %v, want %v: %v", hasValidators, tt.kept, r.Header)
				}
			}
		})
	}
}

// TestCacheChunkedBody: a body of unknown length, which the cache keys
// by, reaches the handler whole, cached or not.
func TestCacheChunkedBody(t *testing.T) {
	f, a := cachedFixture(t, 0)
	// chunked hides the body's length from the client.
	chunked := func(body string) io.Reader { return io.MultiReader(strings.NewReader(body)) }
	for _, body := range []string{`{"query":"{ x }"}`, bigBody, `{"query":"{ x }"}`} {
		resp, b := f.do(t, "POST", "/graphql", f.key, chunked(body))
		if resp.Request.ContentLength != 0 || !strings.Contains(b, fmt.Sprintf(`"body":%d`, len(body))) {
			t.Errorf("%d-byte body sent chunked (length %d): %s", len(body), resp.Request.ContentLength, b)
		}
	}
	if got := a.calls.Load(); got != 2 {
		t.Errorf("handler ran %d times, want 2 (the small body's second answer cached)", got)
	}
	// Over the edge's limit, the handler meets the limit's error as it
	// would without the cache.
	huge := `{"query":"{ x }","variables":{"pad":"` + strings.Repeat("x", 300<<10) + `"}}`
	if resp, _ := f.do(t, "POST", "/graphql", f.key, chunked(huge)); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a chunked body over the limit: %d, want 413", resp.StatusCode)
	}
}

// TestCacheKeepsCORSVary: a cached answer's Vary adds Authorization and
// Accept to the Origin the CORS middleware varies on, hit or miss, and
// carries the cache's ETag, not the handler's.
func TestCacheKeepsCORSVary(t *testing.T) {
	cfg := httpapi.DefaultConfig()
	cfg.CORSOrigins = []string{"https://app.example"}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"the handler's"`)
		w.Header().Set("Vary", "Authorization, Accept")
		io.WriteString(w, `{"ok":true}`)
	})
	f := newFixtureConfig(t, cfg, 0, func(d *httpapi.Deps) {
		d.V2 = handler
		d.Cache = respcache.New(1 << 20)
		d.Versions = d.Reader.(interaction.Versioner)
	})
	for _, round := range []string{"miss", "hit"} {
		r, _ := f.send(t, "GET", "/v2/customers/interaction?id=7", f.key, "", "Origin", "https://app.example")
		vary := strings.Join(r.Header.Values("Vary"), ", ")
		if !strings.Contains(vary, "Origin") || !strings.Contains(vary, "Authorization") || r.Header.Get("ETag") == `"the handler's"` {
			t.Errorf("%s: Vary %q, ETag %s", round, vary, r.Header.Get("ETag"))
		}
	}
}

// TestCacheValidators: If-None-Match with the answer's tag is 304 with no
// body and runs nothing; any other tag, or a tag from before a change,
// gets the answer.
func TestCacheValidators(t *testing.T) {
	f, a := cachedFixture(t, 0)
	const path = "/v2/customers/interaction?identifierName=id&identifierValue=7"
	r1, body := f.send(t, "GET", path, f.key, "")
	etag := r1.Header.Get("ETag")
	for _, inm := range []string{etag, `"other", ` + etag, "W/" + etag, "*"} {
		r, b := f.send(t, "GET", path, f.key, "", "If-None-Match", inm)
		if r.StatusCode != http.StatusNotModified || b != "" || r.Header.Get("ETag") != etag || r.Header.Get("Vary") == "" ||
			r.Header.Get("Cache-Control") == "" || r.Header.Get(httpapi.RequestIDHeader) == "" || r.Header.Get("Content-Type") != "" {
			t.Errorf("If-None-Match %s: %d %q %v (want validators and the edge's headers, no representation headers)", inm, r.StatusCode, b, r.Header)
		}
	}
	if got := a.calls.Load(); got != 1 {
		t.Errorf("handler ran %d times, want 1", got)
	}
	if r, b := f.send(t, "GET", path, f.key, "", "If-None-Match", `"other"`); r.StatusCode != 200 || b != body {
		t.Errorf("another tag: %d %s", r.StatusCode, b)
	}
	// A change moves the version: the old tag no longer matches, and the
	// answer is computed again, with a tag of its own.
	ctx := context.Background()
	o, _ := f.db.OrgByName(ctx, "acme")
	o.RateLimit = 77
	if err := f.db.UpdateOrg(ctx, o); err != nil {
		t.Fatal(err)
	}
	r, b := f.send(t, "GET", path, f.key, "", "If-None-Match", etag)
	if r.StatusCode != 200 || b == body || r.Header.Get("ETag") == etag || a.calls.Load() != 2 {
		t.Errorf("after a change: %d %s %s (%d calls)", r.StatusCode, r.Header.Get("ETag"), b, a.calls.Load())
	}
	// And on a miss the handler's answer is compared with the tag too.
	o.RateLimit = 78
	f.db.UpdateOrg(ctx, o)
	first, _ := f.send(t, "GET", path+"&limit=1", f.key, "")
	o.RateLimit = 79
	f.db.UpdateOrg(ctx, o)
	if r, _ := f.send(t, "GET", path+"&limit=1", f.key, "", "If-None-Match", first.Header.Get("ETag")); r.StatusCode != 200 {
		t.Errorf("a tag from before a change: %d", r.StatusCode)
	}
}

// TestCacheAfterAuthAndLimits: a cached answer is still refused to a
// revoked or expired key and to a key over its rate limit, and never served to
// another organisation, to a key that may see less, or under settings
// that have changed since.
func TestCacheAfterAuthAndLimits(t *testing.T) {
	ctx := context.Background()
	const path = "/v2/customers/interaction?identifierName=id&identifierValue=7"
	t.Run("revoked", func(t *testing.T) {
		f, _ := cachedFixture(t, 0)
		if r, _ := f.send(t, "GET", path, f.key, ""); r.StatusCode != 200 {
			t.Fatal(r.Status)
		}
		id, _, _ := strings.Cut(f.key, ":")
		if err := f.db.RevokeKey(ctx, id, time.Now()); err != nil {
			t.Fatal(err)
		}
		if r, b := f.send(t, "GET", path, f.key, ""); r.StatusCode != 401 {
			t.Errorf("revoked key: %d %s", r.StatusCode, b)
		}
	})
	t.Run("expired", func(t *testing.T) {
		// One clock for the edge and authentication, as serve has it,
		// moved by the test: nothing in the store changes at expiry, so
		// neither the data version nor the cached answers move.
		clock := newClock()
		f, a := cachedFixture(t, 0, func(d *httpapi.Deps) {
			d.Now = clock.Now
			d.Auth = &auth.Authenticator{Admin: d.Reader.(interaction.Admin), Now: clock.Now}
		})
		expiry := clock.Now().Add(time.Hour)
		id, secret, err := auth.CreateKey(ctx, f.db, "acme", auth.KeySpec{ExpiresAt: &expiry}, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		key := id + ":" + secret
		routes := []exchange{
			{"POST", "/graphql", `{"query":"{ x }"}`, nil},
			{"GET", "/v1.1/customer/interaction?id=7", "", nil},
			{"GET", path, "", nil},
		}
		etags := map[string]string{}
		for _, rt := range routes {
			for range 2 { // the second from the cache
				r, b := f.send(t, rt.method, rt.path, key, rt.body)
				if r.StatusCode != 200 {
					t.Fatalf("%s before expiry: %d %s", rt.path, r.StatusCode, b)
				}
				etags[rt.path] = r.Header.Get("ETag")
			}
		}
		if got := a.calls.Load(); got != int64(len(routes)) {
			t.Fatalf("handler ran %d times, want %d: the answers were not cached", got, len(routes))
		}
		clock.Advance(time.Hour - time.Millisecond)
		if r, b := f.send(t, "GET", path, key, ""); r.StatusCode != 200 {
			t.Errorf("a millisecond before expiry: %d %s", r.StatusCode, b)
		}
		clock.Advance(time.Millisecond)
		for _, rt := range routes {
			r, b := f.send(t, rt.method, rt.path, key, rt.body)
			if r.StatusCode != 401 || strings.Contains(b, `"n"`) || r.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s at expiry: %d %s", rt.path, r.StatusCode, b)
			}
			// Nor does a tag it was given earn it a 304.
			if r, _ := f.send(t, rt.method, rt.path, key, rt.body, "If-None-Match", etags[rt.path]); r.StatusCode != 401 {
				t.Errorf("%s at expiry with If-None-Match: %d", rt.path, r.StatusCode)
			}
		}
		if r, _ := f.send(t, "GET", path, f.key, ""); r.StatusCode != 200 {
			t.Errorf("the fixture's key, which has no expiry: %d", r.StatusCode)
		}
		if got := a.calls.Load(); got != int64(len(routes)) {
			t.Errorf("handler ran %d times, want %d", got, len(routes))
		}
	})
	t.Run("rate limited", func(t *testing.T) {
		f, a := cachedFixture(t, 2)
		var statuses []int
		for range 3 {
			r, _ := f.send(t, "GET", path, f.key, "")
			statuses = append(statuses, r.StatusCode)
		}
		if statuses[2] != 429 || a.calls.Load() != 1 {
			t.Errorf("statuses %v with %d calls, want the third refused and one call", statuses, a.calls.Load())
		}
	})
	t.Run("organisations, scopes and settings", func(t *testing.T) {
		f, _ := cachedFixture(t, 0)
		o, _ := f.db.OrgByName(ctx, "acme")
		o.MaskOTP = true
		if err := f.db.UpdateOrg(ctx, o); err != nil {
			t.Fatal(err)
		}
		key := func(org string, scopes ...interaction.Scope) string {
			id, secret, err := auth.CreateKey(ctx, f.db, org, auth.KeySpec{Scopes: scopes}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			return id + ":" + secret
		}
		otp, other := key("acme", interaction.ScopeOTPRead), key("globex")
		answer := func(cred string) map[string]any {
			t.Helper()
			r, b := f.send(t, "GET", path, cred, "")
			var m map[string]any
			if r.StatusCode != 200 || json.Unmarshal([]byte(b), &m) != nil {
				t.Fatalf("%d %s", r.StatusCode, b)
			}
			return m
		}
		for _, cred := range []string{otp, f.key, otp, f.key} { // each after the other has been cached
			want := cred == f.key
			if got := answer(cred)["masked"]; got != want {
				t.Errorf("masked = %v, want %v", got, want)
			}
		}
		if got := answer(other)["org"]; got != "globex" {
			t.Errorf("another organisation's key was answered for %v", got)
		}
		// Settings show on the next request, cached answers or not.
		o.TimeZone, o.MaskOTP = "Asia/Kolkata", false
		if err := f.db.UpdateOrg(ctx, o); err != nil {
			t.Fatal(err)
		}
		if m := answer(f.key); m["tz"] != "Asia/Kolkata" || m["masked"] != false {
			t.Errorf("after the settings change: %v", m)
		}
	})
}

// TestValidatedWhenNotKept: an answer the cache could not keep (here, over
// an eighth of a tiny cache) still carries its tag, and If-None-Match with
// that tag is answered 304 without running the handler; after a change
// the answer is computed again under a new tag.
func TestValidatedWhenNotKept(t *testing.T) {
	a := &answering{}
	cache := respcache.New(1000)
	f := newFixtureConfig(t, httpapi.DefaultConfig(), 0, func(d *httpapi.Deps) {
		d.GraphQL, d.V2, d.V11 = a, a, a
		d.Cache = cache
		d.Versions = d.Reader.(interaction.Versioner)
	})
	const path = "/v2/customers/interaction?identifierName=id&identifierValue=7"
	r1, _ := f.send(t, "GET", path, f.key, "")
	etag := r1.Header.Get("ETag")
	if r1.StatusCode != 200 || etag == "" {
		t.Fatalf("first answer: %d %v", r1.StatusCode, r1.Header)
	}
	if r, b := f.send(t, "GET", path, f.key, "", "If-None-Match", etag); r.StatusCode != http.StatusNotModified || b != "" || r.Header.Get("ETag") != etag {
		t.Errorf("the answer's tag: %d %q %v", r.StatusCode, b, r.Header)
	}
	if got := a.calls.Load(); got != 1 {
		t.Errorf("handler ran %d times, want 1 (none for the 304)", got)
	}
	if st := cache.Stats(); st.Entries != 0 {
		t.Fatalf("the cache kept %d answers; the test wants none kept", st.Entries)
	}
	ctx := context.Background()
	o, _ := f.db.OrgByName(ctx, "acme")
	o.RateLimit = 77
	if err := f.db.UpdateOrg(ctx, o); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.send(t, "GET", path, f.key, "", "If-None-Match", etag); r.StatusCode != 200 || r.Header.Get("ETag") == etag || a.calls.Load() != 2 {
		t.Errorf("after a change: %d, tag %q, %d calls", r.StatusCode, r.Header.Get("ETag"), a.calls.Load())
	}
}
