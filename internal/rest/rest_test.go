package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/demo"
	"github.com/touchpoint/touchpoint/internal/httpapi"
	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/loader"
	"github.com/touchpoint/touchpoint/internal/ratelimit"
	"github.com/touchpoint/touchpoint/internal/rest"
	"github.com/touchpoint/touchpoint/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// env serves the shims over a demo store through the real HTTP edge
// (httpapi: request ids, rate limits, 405s, error writers), with a stub
// authenticator: every request is the org's key "k" with e.scopes, but
// for "Authorization: Basic bad". Every answer e.get sees is validated
// against the OpenAPI document.
type env struct {
	tb     testing.TB
	db     testenv.Store
	org    interaction.Org
	scopes []interaction.Scope
	edge   http.Handler
	// v11 and v2 are the routes' paths on edge, as handlers.
	v11, v2 http.Handler
	// rawV11 and rawV2 are the handlers alone, for the benchmarks.
	rawV11, rawV2 http.Handler
}

// edgeHandler marks the handlers whose answers are validated.
type edgeHandler struct{ http.Handler }

type stubAuth struct{ e *env }

func (a stubAuth) Authenticate(_ context.Context, r *http.Request) (interaction.Principal, error) {
	if r.Header.Get("Authorization") == "Basic bad" {
		return interaction.Principal{}, interaction.Errorf(interaction.KindUnauthorized, "invalid or missing API credentials")
	}
	return interaction.Principal{Org: a.e.org, KeyID: "k", Scopes: a.e.scopes}, nil
}

func newEnv(t testing.TB, customers int) *env {
	t.Helper()
	db, org := testenv.DemoDB(t, customers)
	e := &env{tb: t, db: db, org: org, scopes: []interaction.Scope{interaction.ScopeRead}}
	wrap := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := interaction.NewContext(r.Context(), interaction.Principal{Org: e.org, KeyID: "k", Scopes: e.scopes})
			h.ServeHTTP(w, r.WithContext(loader.NewContext(ctx, loader.New(db, e.org.ID, loader.Options{}))))
		})
	}
	e.rawV11, e.rawV2 = wrap(rest.V11(rest.Options{})), wrap(rest.V2(rest.Options{}))
	cfg := httpapi.DefaultConfig()
	cfg.DefaultRateLimit = 1 << 30 // a test's org sets its own to see 429
	e.edge = edgeHandler{httpapi.NewServer(cfg, httpapi.Deps{
		Auth: stubAuth{e}, Limiter: ratelimit.NewMemory(), Reader: db,
		V11: rest.V11(rest.Options{}), V2: rest.V2(rest.Options{}), V11Error: rest.WriteV11Error, V2Error: rest.WriteV2Error,
		OpenAPI: rest.OpenAPI(),
	})}
	e.v11, e.v2 = e.edge, e.edge
	return e
}

// get serves GET target on h (header holds name, value pairs).
func (e *env) get(h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	return e.do(h, "GET", target, header...)
}

// do serves a request on h and, when h is the edge, validates the answer
// against the OpenAPI document.
func (e *env) do(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	e.tb.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if _, ok := h.(edgeHandler); ok {
		validateResponse(e.tb, req, rec)
	}
	return rec
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// normalize makes the documented exceptions comparable. Interaction lists
// are compared as sets when orderFree is set (the two v1.1 samples
// disagree on the order). Message lists are compared in order; sortSample
// puts a sample's own lists oldest first, as we list them (only the v2
// sample's sms and phone lists are in no order: its email and viber lists,
// and the v1.1 sample's, are oldest first already).
func normalize(v any, orderFree, sortSample bool) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			x = normalize(x, orderFree, sortSample)
			if list, ok := x.([]any); ok && orderFree && k == "interaction" {
				sort.Slice(list, func(i, j int) bool { return fmt.Sprint(list[i]) < fmt.Sprint(list[j]) })
			}
			if list, ok := x.([]any); ok && sortSample && (k == "message" || k == "messageList") {
				sort.SliceStable(list, func(i, j int) bool { return sentKey(list[i]) < sentKey(list[j]) })
			}
			out[k] = x
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalize(x, orderFree, sortSample)
		}
		return out
	}
	return v
}

// sentKey orders a sample message by sent time ("YYYY-MM-DD HH:mm:ss" in
// v1.1, "DD-MM-YYYY HH:mm:ss" in v2), then id.
func sentKey(m any) string {
	msg := m.(map[string]any)
	if s, ok := msg["sent_time"].(string); ok {
		return s + fmt.Sprint(msg["id"])
	}
	d := msg["sentDate"].(string) // DD-MM-YYYY HH:mm:ss
	return d[6:10] + d[3:5] + d[0:2] + d[10:] + fmt.Sprint(msg["id"])
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file:\ngot  %s\nwant %s", name, got, want)
	}
}

// TestVendorSamples compares our responses for the samples' customers with
// the vendor documents, field by field and type by type (numbers stay
// json.Number, so 200 and "200" differ).
func TestVendorSamples(t *testing.T) {
	e := newEnv(t, 3)
	tests := []struct {
		name, vendor, target string
		v2, orderFree        bool
		fix                  func(string) string
	}{
		{name: "v1.1-tom-sawyer", vendor: "v1.1-tom-sawyer.json", target: "/v1.1/customer/interaction?mobile=919988221100&format=json"},
		// The v1.1 document's sample shows the email as Cloudflare's
		// "[email protected]" obfuscation of gcr9986@gmail.com.
		{name: "v1.1-gcr", vendor: "v1.1-gcr.json", target: "/v1.1/customer/interaction?email=gcr9986%40gmail.com&format=json", orderFree: true,
			fix: func(s string) string { return strings.Replace(s, "[email protected]", "gcr9986@gmail.com", 1) }},
		{name: "v2-viber", vendor: "v2-viber.json", target: "/v2/customers/interaction?identifierName=mobile&network=capillary&identifierValue=917385022695", v2: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := e.v11
			if tt.v2 {
				h = e.v2
			}
			rec := e.get(h, tt.target)
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			golden(t, tt.name+".golden.json", rec.Body.Bytes())
			raw, err := os.ReadFile(filepath.Join("testdata", "vendor", tt.vendor))
			if err != nil {
				t.Fatal(err)
			}
			want := string(raw)
			if tt.fix != nil {
				want = tt.fix(want)
			}
			got, exp := normalize(decode(t, rec.Body.Bytes()), tt.orderFree, false), normalize(decode(t, []byte(want)), tt.orderFree, true)
			if !reflect.DeepEqual(got, exp) {
				g, _ := json.MarshalIndent(got, "", " ")
				x, _ := json.MarshalIndent(exp, "", " ")
				t.Errorf("differs from the vendor sample:\ngot  %s\nwant %s", g, x)
			}
		})
	}
}

func TestV11XML(t *testing.T) {
	e := newEnv(t, 3)
	for _, target := range []string{
		"/v1.1/customer/interaction?mobile=919988221100&format=xml",
		"/v1.1/customer/interaction?mobile=919988221100", // by Accept
	} {
		rec := e.get(e.v11, target, "Accept", "application/xml")
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/xml") {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Header())
		}
		golden(t, "v1.1-tom-sawyer.golden.xml", rec.Body.Bytes())
	}
	// The XML carries the same content as the JSON.
	type msg struct {
		ID       int64  `xml:"id"`
		Reciever string `xml:"reciever"`
		Sent     string `xml:"sent_time"`
	}
	var doc struct {
		Success string   `xml:"status>success"`
		ID      string   `xml:"customer>id"`
		Types   []string `xml:"customer>interactions>network>interaction>type"`
		Msgs    []msg    `xml:"customer>interactions>network>interaction>messages>message"`
	}
	rec := e.get(e.v11, "/v1.1/customer/interaction?mobile=919988221100&format=xml")
	if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Success != "true" || doc.ID != "565039505" || len(doc.Types) != 8 || len(doc.Msgs) != 2 ||
		doc.Msgs[0].ID != 1743467374476 || doc.Msgs[0].Reciever != "aditi.khandelwal@capillarytech.com" || doc.Msgs[0].Sent != "2025-04-14 14:23:20" {
		t.Errorf("xml content = %+v", doc)
	}
}

// The envelopes of failures caused by the inputs or the lookup.
const (
	v11Failed = `"status":{"success":"false","code":500,"message":"All requests have failed due to errors. Invalid or unsupported inputs passed."}`
	notFound  = `"code":1012,"message":"Cannot find customer for provided mobile/external-id/e-mail/id"`
)

// paramCase is a query string and what the answer to it has: its status
// and parts of its body.
type paramCase struct {
	query    string
	status   int
	contains []string
}

// checkParams asks h for base+query of each case, each a subtest.
func (e *env) checkParams(t *testing.T, h http.Handler, base string, tests []paramCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			rec := e.get(h, base+tt.query)
			if rec.Code != tt.status {
				t.Errorf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			for _, c := range tt.contains {
				if !strings.Contains(rec.Body.String(), c) {
					t.Errorf("body lacks %s: %s", c, rec.Body)
				}
			}
		})
	}
}

func TestV11Parameters(t *testing.T) {
	e := newEnv(t, 3)
	base := "/v1.1/customer/interaction?format=json&"
	item := func(code int) string { return fmt.Sprintf(`"item_status":{"success":"false","code":%d,`, code) }
	tests := []paramCase{
		{"mobile=919988221100", 200, []string{`"code":1000`, `"count":2,"type":"email"`}},
		{"identifierName=email&identifierValue=TOM.SAWYER%40capillarytech.com", 200, []string{`"id":"565039505"`}},
		{"id=565039505&card_details=true&user_id=false&fetch_type=ORG&ou_code=x&unknown=1", 200, []string{`"id":"565039505"`}},
		{"mobile=917385022695&type=viber&limit=1", 200, []string{`"count":3,"type":"viber"`, `"message":[{"id":1746038123052,`}},
		{"mobile=917385022695&type=viber&limit=1&offset=2", 200, []string{`"message":[{"id":1746038178479,`}},
		{"mobile=917385022695&type=viber&offset=3", 200, []string{`"last_interaction_time":"null","used_status":false,"count":3,"type":"viber"}`}},
		{"mobile=917385022695&network=twitter", 200, []string{`"network":[{"name":"twitter","interaction":[]}]`}},
		{"mobile=917385022695&start_date=2025-05-27&end_date=2025-05-28", 200, []string{`"count":1,"type":"viber"`, `"count":0,"type":"sms"`}},
		{"mobile=917385022695&end_date=2025-03-07", 200, []string{`"count":4,"type":"sms"`}},
		{"mobile=919988221100&limit=501", 200, []string{`"count":2,"type":"email"`}},
		{"mobile=919988221100&limit=99999999999999999999999", 200, []string{`"count":2,"type":"email"`}},
		{"mobile=919988221100&limit=%2B1&offset=%2B1", 200, []string{`"message":[{"id":1743467660038,`}},
		{"mobile=919988221100&limit=&offset=", 200, []string{`"count":2,"type":"email"`}},
		{"mobile=919988221100&limit=0", 200, []string{`"used_status":false,"count":2,"type":"email"}`}},
		// The lookup and the identifier: the vendor's 1012.
		{"mobile=000", 404, []string{v11Failed, item(1012), notFound, `"mobile":"000"`}},
		{"", 400, []string{v11Failed, item(1012), notFound}},
		{"mobile=", 400, []string{v11Failed, item(1012)}},
		{"mobile=%20%20", 400, []string{v11Failed, item(1012), `"mobile":"  "`}},
		{"identifierName=card&identifierValue=1", 400, []string{v11Failed, item(1012), notFound}},
		{"identifierName=mobile&identifierValue=", 400, []string{v11Failed, item(1012)}},
		{"identifierName=mobile", 400, []string{v11Failed, item(1012)}},
		{"identifierValue=919988221100", 400, []string{v11Failed, item(1012)}},
		{"id=abc", 400, []string{v11Failed, item(1012), `"id":"abc"`}},
		{"id=-5", 400, []string{v11Failed, item(1012)}},
		// Other inputs: codes of our own, the same envelope.
		{"mobile=919988221100&network=myspace", 400, []string{v11Failed, item(1101), `network must be one of capillary, facebook, twitter or foursquare, got \"myspace\"`}},
		{"mobile=919988221100&type=fax", 400, []string{v11Failed, item(1102), `type must be one of`}},
		{"mobile=919988221100&network=facebook&type=tweet", 400, []string{v11Failed, item(1103), `type tweet is only on twitter, not on facebook`}},
		{"mobile=919988221100&network=twitter&type=survey", 400, []string{v11Failed, item(1103)}},
		{"mobile=919988221100&network=capillary&type=checkin", 400, []string{v11Failed, item(1103), `only on foursquare or facebook`}},
		{"mobile=919988221100&limit=abc", 400, []string{v11Failed, item(1104), `limit must be a whole number`}},
		{"mobile=919988221100&limit=-1", 400, []string{v11Failed, item(1104)}},
		{"mobile=919988221100&limit=2.5", 400, []string{v11Failed, item(1104)}},
		{"mobile=919988221100&offset=-1", 400, []string{v11Failed, item(1105), `offset must be a whole number from 0 to 100000`}},
		{"mobile=919988221100&offset=100001", 400, []string{v11Failed, item(1105)}},
		{"mobile=919988221100&offset=1e3", 400, []string{v11Failed, item(1105)}},
		{"mobile=919988221100&start_date=yesterday", 400, []string{v11Failed, item(1106), `start_date must be`}},
		{"mobile=919988221100&start_date=2025-02-01&end_date=2025-01-01", 400, []string{v11Failed, item(1106), `end date is before start date`}},
	}
	e.checkParams(t, e.v11, base, tests)
	for _, target := range []string{"/v1.1/customer/interaction?mobile=1&format=yaml", "/v1.1/customer/interaction?mobile=1&format=yaml&limit=x"} {
		if rec := e.get(e.v11, target); rec.Code != 400 || !strings.Contains(rec.Body.String(), `"code":1107,"message":"format must be json or xml, got \"yaml\""`) {
			t.Errorf("bad format: %d %s", rec.Code, rec.Body)
		}
	}
	// An error comes in the format asked for, by format or Accept.
	for _, tt := range []struct{ target, accept string }{
		{"/v1.1/customer/interaction?mobile=000&format=xml", ""},
		{"/v1.1/customer/interaction?mobile=000", "application/xml"},
		{"/v1.1/customer/interaction?mobile=000&format=yaml", "text/xml"},
	} {
		rec := e.get(e.v11, tt.target, "Accept", tt.accept)
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/xml") || !strings.Contains(rec.Body.String(), "<item_status><success>false</success>") {
			t.Errorf("%s (Accept %s): %s %s", tt.target, tt.accept, rec.Header().Get("Content-Type"), rec.Body)
		}
	}
}

func TestV2Parameters(t *testing.T) {
	e := newEnv(t, 3)
	base := "/v2/customers/interaction?"
	tests := []paramCase{
		{"identifierName=mobile&identifierValue=919988221100", 200, []string{`"name":"capillary"`, `"deliveredTime":"2025-04-16T15:32:20Z"`, `"warnings":[]`, `{"count":0,"name":"survey","surveys":[]}`}},
		{"identifierName=email&identifierValue=tom.sawyer%40capillarytech.com&type=email&limit=1", 200, []string{`"messageList":[{"id":1743467374476`,
			`"warnings":[{"code":1201,"message":"email: 1 of 2 returned (offset 0, limit 1); page with offset and limit for the others","name":"email","count":2,"returned":1}]`}},
		{"identifierName=email&identifierValue=tom.sawyer%40capillarytech.com&type=email&limit=1&offset=1", 200, []string{`"messageList":[{"id":1743467660038`, `"returned":1`}},
		{"identifierName=mobile&identifierValue=919988221100&limit=600", 200, []string{`"warnings":[]`}},
		{"identifierName=id&identifierValue=565200001&type=missed_call", 200, []string{`"interaction":[{"count":0,"name":"missed_call","usedStatus":false}]`}},
		{"identifierName=mobile&identifierValue=917385022695&network=facebook", 200, []string{`"name":"facebook","interaction":[]`}},
		{"identifierName=MOBILE&identifierValue=917385022695&network=Capillary&type=VIBER", 200, []string{`"count":3,"name":"viber"`}},
		// The identifier and the lookup: the vendor's 1012, always with its
		// description.
		{"identifierName=mobile&identifierValue=000", 404, []string{`{"errors":[{` + notFound + `}]}`}},
		{"", 400, []string{`{"errors":[{` + notFound + `}]}`}},
		{"identifierValue=1", 400, []string{`{"errors":[{` + notFound + `}]}`}},
		{"identifierName=card&identifierValue=1", 400, []string{`{"errors":[{` + notFound + `}]}`}},
		{"identifierName=mobile&identifierValue=", 400, []string{`{"errors":[{` + notFound + `}]}`}},
		{"identifierName=mobile", 400, []string{`{"errors":[{` + notFound + `}]}`}},
		{"identifierName=id&identifierValue=x1", 400, []string{`{"errors":[{` + notFound + `}]}`}},
		// Other inputs.
		{"identifierName=mobile&identifierValue=1&network=myspace", 400, []string{`"code":1101`}},
		{"identifierName=mobile&identifierValue=1&type=fax", 400, []string{`"code":1102`}},
		{"identifierName=mobile&identifierValue=1&type=tweet&network=capillary", 400, []string{`"code":1103`}},
		{"identifierName=mobile&identifierValue=1&type=like&network=twitter", 400, []string{`"code":1103`}},
		{"identifierName=mobile&identifierValue=1&type=feedback&network=facebook", 400, []string{`"code":1103`}},
		{"identifierName=mobile&identifierValue=1&limit=-5", 400, []string{`"code":1104`, `limit must be a whole number`}},
		{"identifierName=mobile&identifierValue=1&limit=ten", 400, []string{`"code":1104`}},
		{"identifierName=mobile&identifierValue=1&offset=-1", 400, []string{`"code":1105`}},
	}
	e.checkParams(t, e.v2, base, tests)
}

func TestTimeZoneAndMasking(t *testing.T) {
	e := newEnv(t, 3)
	e.org.TimeZone = "Asia/Kolkata"
	rec := e.get(e.v11, "/v1.1/customer/interaction?mobile=919988221100")
	if !strings.Contains(rec.Body.String(), `"sent_time":"2025-04-16 21:02:10"`) {
		t.Errorf("v1.1 not in org time zone: %s", rec.Body)
	}
	rec = e.get(e.v2, "/v2/customers/interaction?identifierName=mobile&identifierValue=919988221100")
	if !strings.Contains(rec.Body.String(), `"sentDate":"16-04-2025 21:02:10","deliveredTime":"2025-04-16T15:32:20Z"`) {
		t.Errorf("v2 times: %s", rec.Body)
	}
}

func TestErrorWriters(t *testing.T) {
	for _, tt := range []struct {
		err    error
		status int
		v11    string
		v2     string
	}{
		{interaction.Errorf(interaction.KindUnauthorized, "invalid or missing API credentials"), 401,
			`{"response":{"status":{"success":"false","code":401,"message":"invalid or missing API credentials"}}}`,
			`{"errors":[{"code":401,"message":"invalid or missing API credentials"}]}`},
		{interaction.Errorf(interaction.KindRateLimited, "slow down"), 429,
			`{"response":{"status":{"success":"false","code":429,"message":"slow down"}}}`, `{"errors":[{"code":429,"message":"slow down"}]}`},
		{fmt.Errorf("sql: database is locked"), 500,
			`{"response":{"status":{"success":"false","code":500,"message":"internal error"}}}`, `{"errors":[{"code":500,"message":"internal error"}]}`},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), 503,
			`{"response":{"status":{"success":"false","code":503,"message":"the service did not answer in time; retry later"}}}`,
			`{"errors":[{"code":503,"message":"the service did not answer in time; retry later"}]}`},
	} {
		rec := httptest.NewRecorder()
		rest.WriteV11Error(rec, httptest.NewRequest("GET", "/", nil), tt.err)
		if rec.Code != tt.status || strings.TrimSpace(rec.Body.String()) != tt.v11 {
			t.Errorf("v1.1 %v: %d %s", tt.err, rec.Code, rec.Body)
		}
		rec = httptest.NewRecorder()
		rest.WriteV2Error(rec, httptest.NewRequest("GET", "/", nil), tt.err)
		if rec.Code != tt.status || strings.TrimSpace(rec.Body.String()) != tt.v2 {
			t.Errorf("v2 %v: %d %s", tt.err, rec.Code, rec.Body)
		}
	}
}

// TestStoreOutOfTime: when the request's deadline has passed, the real
// store's error is a 503 in each version's envelope, and nothing is logged
// as an internal error; when the client has gone, the status is 499.
func TestStoreOutOfTime(t *testing.T) {
	e := newEnv(t, 3)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	v11, v2 := rest.V11(rest.Options{Logger: logger}), rest.V2(rest.Options{Logger: logger})
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	gone, leave := context.WithCancel(context.Background())
	leave()
	for _, tt := range []struct {
		name   string
		ctx    context.Context
		h      http.Handler
		target string
		status int
	}{
		{"v1.1 deadline", expired, v11, "/v1.1/customer/interaction?mobile=919988221100", 503},
		{"v1.1 deadline, XML", expired, v11, "/v1.1/customer/interaction?mobile=919988221100&format=xml", 503},
		{"v2 deadline", expired, v2, "/v2/customers/interaction?identifierName=mobile&identifierValue=919988221100", 503},
		{"v1.1 client gone", gone, v11, "/v1.1/customer/interaction?mobile=919988221100", 499},
		{"v2 client gone", gone, v2, "/v2/customers/interaction?identifierName=mobile&identifierValue=919988221100", 499},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tt.target, nil)
			ctx := interaction.NewContext(tt.ctx, interaction.Principal{Org: e.org, KeyID: "k", Scopes: e.scopes})
			ctx = loader.NewContext(ctx, loader.New(e.db, e.org.ID, loader.Options{}))
			rec := httptest.NewRecorder()
			tt.h.ServeHTTP(rec, req.WithContext(ctx))
			if rec.Code != tt.status {
				t.Errorf("%d %s, want %d", rec.Code, rec.Body, tt.status)
			}
			if tt.status == 503 && !strings.Contains(rec.Body.String(), "retry later") {
				t.Errorf("503 without its message: %s", rec.Body)
			}
		})
	}
	if logs.Len() > 0 {
		t.Errorf("logged:\n%s", logs.String())
	}
}

func fuzzQuery(f *testing.F, path string, handler func(*env) http.Handler) {
	for _, s := range []string{"mobile=919988221100", "identifierName=mobile&identifierValue=917385022695&limit=2", "%zz", "format=xml&id=1&start_date=2025-01-01", "type=phone&offset=99999999999999999999"} {
		f.Add(s)
	}
	e := newEnv(f, 3)
	h := handler(e)
	f.Fuzz(func(t *testing.T, q string) {
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path = path
		req.URL.RawQuery = q
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		validateResponse(t, req, rec)
		switch rec.Code {
		case 200, 400, 404:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, q, rec.Body)
		}
		ct := rec.Header().Get("Content-Type")
		body := rec.Body.Bytes()
		if strings.HasPrefix(ct, "application/json") && !json.Valid(body) || strings.HasPrefix(ct, "application/xml") && xml.Unmarshal(body, new(any)) != nil {
			t.Fatalf("malformed %s body for %q: %s", ct, q, body)
		}
	})
}

func FuzzV11Query(f *testing.F) {
	fuzzQuery(f, "/v1.1/customer/interaction", func(e *env) http.Handler { return e.v11 })
}

func FuzzV2Query(f *testing.F) {
	fuzzQuery(f, "/v2/customers/interaction", func(e *env) http.Handler { return e.v2 })
}

// benchCustomer adds customer 900 (mobile "bench") with 20 sms and 20
// email messages.
func benchCustomer(b *testing.B, e *env) {
	var buf strings.Builder
	buf.WriteString(`{"record":"customer","id":900,"mobile":"bench"}` + "\n")
	for i := range 40 {
		typ := []string{"sms", "email"}[i%2]
		fmt.Fprintf(&buf, `{"record":"message","id":%d,"customer_id":900,"network":"capillary","type":"%s","receiver":"bench","subject":"Weekend sale %d","status":"DELIVERED","campaign_id":5,"user_id":7,"sent_at":"2025-01-%02dT10:00:00Z","delivered_at":"2025-01-%02dT10:00:05Z"}`+"\n", 9000+i, typ, i, 1+i%28, 1+i%28)
	}
	if rep, err := importer.Import(context.Background(), strings.NewReader(buf.String()), e.db, e.org.ID, importer.Options{}); err != nil || rep.Rejected > 0 {
		b.Fatal(err, rep.Rejections)
	}
}

func benchmarkEndpoint(b *testing.B, h func(*env) http.Handler, target string) {
	e := newEnv(b, 100)
	benchCustomer(b, e)
	handler := h(e)
	for b.Loop() {
		if rec := e.get(handler, target); rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}

// BenchmarkV11 and BenchmarkV2 serve one customer with 20 messages a page;
// graph.BenchmarkOneCustomer is the GraphQL query for the same data.
func BenchmarkV11(b *testing.B) {
	benchmarkEndpoint(b, func(e *env) http.Handler { return e.rawV11 }, "/v1.1/customer/interaction?mobile=bench&limit=20&format=json")
}

func BenchmarkV2(b *testing.B) {
	benchmarkEndpoint(b, func(e *env) http.Handler { return e.rawV2 }, "/v2/customers/interaction?identifierName=mobile&identifierValue=bench&limit=20")
}

func TestETag(t *testing.T) {
	e := newEnv(t, 3)
	for i, h := range []http.Handler{e.v11, e.v2} {
		target := "/v1.1/customer/interaction?mobile=919988221100"
		if i == 1 {
			target = "/v2/customers/interaction?identifierName=mobile&identifierValue=919988221100"
		}
		first := e.get(h, target)
		etag := first.Header().Get("ETag")
		if first.Code != 200 || etag == "" || first.Header().Get("Cache-Control") != "private, no-cache" {
			t.Fatalf("%s: %d %v", target, first.Code, first.Header())
		}
		if again := e.get(h, target, "If-None-Match", etag); again.Code != 304 || again.Body.Len() != 0 {
			t.Errorf("%s revalidation: %d %q", target, again.Code, again.Body)
		}
		if other := e.get(h, target, "If-None-Match", `"stale"`); other.Code != 200 {
			t.Errorf("%s stale tag: %d", target, other.Code)
		}
		// A tag set before the shim answers (the HTTP edge's, from the
		// data version) is kept, not replaced by the body's hash.
		rec := httptest.NewRecorder()
		rec.Header().Set("ETag", `"v7-edge"`)
		[]http.Handler{e.rawV11, e.rawV2}[i].ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if rec.Code != 200 || rec.Header().Get("ETag") != `"v7-edge"` {
			t.Errorf("%s under the edge's tag: %d, tag %q", target, rec.Code, rec.Header().Get("ETag"))
		}
		// New data for the customer changes the tag.
		msg := fmt.Sprintf(`{"record":"message","id":%d,"customer_id":565039505,"network":"capillary","type":"email","status":"OPENED","sent_at":"2025-06-01T00:00:00Z"}`, 77+i)
		importer.Import(context.Background(), strings.NewReader(msg+"\n"), e.db, e.org.ID, importer.Options{})
		if after := e.get(h, target, "If-None-Match", etag); after.Code != 200 || after.Header().Get("ETag") == etag {
			t.Errorf("%s: tag unchanged after an import", target)
		}
	}
}

// TestLenientIdentifiers: a "+" left unescaped in a query string (it
// decodes as a space) and a formatted mobile still find the customer.
func TestLenientIdentifiers(t *testing.T) {
	e := newEnv(t, 3)
	for _, target := range []string{
		"/v1.1/customer/interaction?mobile=%2B91%2099882-21100",
		"/v1.1/customer/interaction?mobile=+919988221100",
		"/v2/customers/interaction?identifierName=email&identifierValue=TOM.SAWYER@capillarytech.com",
	} {
		h := e.v11
		if strings.HasPrefix(target, "/v2") {
			h = e.v2
		}
		if rec := e.get(h, target); rec.Code != 200 {
			t.Errorf("%s: %d %s", target, rec.Code, rec.Body)
		}
	}
}

// TestInternalErrorLoggedWithRequestID: through the edge, an internal
// error answers 500 in each version's envelope with nothing of itself, and
// is logged with the request id the client was given.
func TestInternalErrorLoggedWithRequestID(t *testing.T) {
	e := newEnv(t, 3)
	var logs bytes.Buffer
	o := rest.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	edge := edgeHandler{httpapi.NewServer(httpapi.DefaultConfig(), httpapi.Deps{
		Auth: stubAuth{e}, Limiter: ratelimit.NewMemory(), Reader: testenv.BrokenReader{Reader: e.db},
		V11: rest.V11(o), V2: rest.V2(o), V11Error: rest.WriteV11Error, V2Error: rest.WriteV2Error,
	})}
	for _, tt := range []struct{ route, target string }{
		{"v1.1", "/v1.1/customer/interaction?mobile=919988221100&format=json"},
		{"v2", "/v2/customers/interaction?identifierName=mobile&identifierValue=919988221100"},
	} {
		t.Run(tt.route, func(t *testing.T) {
			logs.Reset()
			rec := e.get(edge, tt.target, httpapi.RequestIDHeader, "trace-"+tt.route)
			if rec.Code != 500 || strings.Contains(rec.Body.String(), testenv.ErrBroken.Error()) {
				t.Errorf("%d %s, want 500 with no detail", rec.Code, rec.Body)
			}
			testenv.CheckInternalErrorLog(t, logs.Bytes(), tt.route+": load", "trace-"+tt.route)

		})
	}
}

// TestConcurrentAnswersKeepTheirBytes: answers are built in pooled
// buffers; served at once, in any order, each is the bytes it is when
// served alone (a buffer back in the pool before its answer was written,
// or shared by two, would mix answers).
func TestConcurrentAnswersKeepTheirBytes(t *testing.T) {
	e := newEnv(t, 60)
	var targets []string
	for _, try := range demo.Tries(demo.Options{Customers: 60}, 3) {
		targets = append(targets,
			"/v1.1/customer/interaction?format=json&limit=50&mobile="+try.Mobile,
			"/v2/customers/interaction?identifierName=mobile&limit=50&network="+string(try.Network)+"&identifierValue="+try.Mobile)
	}
	handler := func(target string) http.Handler {
		if strings.HasPrefix(target, "/v1.1") {
			return e.rawV11
		}
		return e.rawV2
	}
	want := make(map[string]string, len(targets))
	for _, target := range targets {
		if rec := e.get(handler(target), target); rec.Code == 200 {
			want[target] = rec.Body.String()
		} else {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 4 * len(targets) {
				target := targets[(i*7+g*13)%len(targets)]
				rec := httptest.NewRecorder()
				handler(target).ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
				if got := rec.Body.String(); got != want[target] {
					t.Errorf("%s served concurrently:\n%.200s\nalone:\n%.200s", target, got, want[target])
					return
				}
			}
		})
	}
	wg.Wait()
}
