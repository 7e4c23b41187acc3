package rest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/internal/httpapi"
	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/ratelimit"
	"github.com/touchpoint/touchpoint/internal/rest"
)

// The cases of the contract the vendor documents that the shims once
// broke, each on the store the suite runs on (TOUCHPOINT_TEST_STORE).

// contractCustomers are imported on top of the demo data:
//
//	700 "sixty"    60 sms, sent two by two at the same second (ids break the ties)
//	701 "many"     600 sms
//	702 "tweeter"  one tweet on twitter, one email
//	703 "fbcheck"  one checkin on facebook
//	704 "bothcheck" two checkins on foursquare, one on facebook
//	705 "surveyed" three surveys
func contractCustomers(t *testing.T, e *env) {
	t.Helper()
	var b strings.Builder
	for _, c := range []struct {
		id     int
		mobile string
	}{{700, "sixty"}, {701, "many"}, {702, "tweeter"}, {703, "fbcheck"}, {704, "bothcheck"}, {705, "surveyed"}} {
		fmt.Fprintf(&b, `{"record":"customer","id":%d,"mobile":"%s"}`+"\n", c.id, c.mobile)
	}
	msg := func(id, customer int, network, typ string, at time.Time) {
		fmt.Fprintf(&b, `{"record":"message","id":%d,"customer_id":%d,"network":"%s","type":"%s","receiver":"r","subject":"m%d","status":"DELIVERED","sent_at":"%s"}`+"\n",
			id, customer, network, typ, id, at.Format(time.RFC3339))
	}
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	// Imported newest first and with ids against time, so that neither
	// the import order nor the ids alone give the answer's order.
	for k := 59; k >= 0; k-- {
		msg(sixtyID(k), 700, "capillary", "sms", t0.Add(time.Duration(k/2)*time.Minute))
	}
	for i := range 600 {
		msg(71000+i, 701, "capillary", "sms", t0.Add(time.Duration(i)*time.Second))
	}
	msg(72000, 702, "twitter", "tweet", t0)
	msg(72001, 702, "capillary", "email", t0)
	msg(73000, 703, "facebook", "checkin", t0)
	msg(74000, 704, "foursquare", "checkin", t0)
	msg(74001, 704, "foursquare", "checkin", t0.Add(time.Hour))
	msg(74002, 704, "facebook", "checkin", t0)
	for i, day := range []int{20, 5, 12} {
		fmt.Fprintf(&b, `{"record":"survey","id":%d,"customer_id":705,"name":"NPS","submitted_at":"2025-01-%02dT00:00:00Z","responses":{"score":%d}}`+"\n", 75000+i, day, i)
	}
	rep, err := importer.Import(context.Background(), strings.NewReader(b.String()), e.db, e.org.ID, importer.Options{})
	if err != nil || rep.Rejected > 0 {
		t.Fatal(err, rep.Rejections)
	}
}

// v2Body is the v2 payload as a test reads it.
type v2Body struct {
	Name        string `json:"name"`
	Interaction []struct {
		Count       int    `json:"count"`
		Name        string `json:"name"`
		MessageList []struct {
			ID       int64  `json:"id"`
			SentDate string `json:"sentDate"`
		} `json:"messageList"`
		Surveys []struct {
			ID int64 `json:"id"`
		} `json:"surveys"`
	} `json:"interaction"`
	Warnings []struct {
		Code     int    `json:"code"`
		Message  string `json:"message"`
		Name     string `json:"name"`
		Count    int    `json:"count"`
		Returned int    `json:"returned"`
	} `json:"warnings"`
}

func (e *env) v2Get(t *testing.T, query string) v2Body {
	t.Helper()
	rec := e.get(e.v2, "/v2/customers/interaction?"+query)
	if rec.Code != 200 {
		t.Fatalf("%s: %d %s", query, rec.Code, rec.Body)
	}
	var b v2Body
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// ids returns the ids listed for type name, and its count.
func (b v2Body) ids(name string) ([]int64, int) {
	for _, it := range b.Interaction {
		if it.Name == name {
			var ids []int64
			for _, m := range it.MessageList {
				ids = append(ids, m.ID)
			}
			for _, s := range it.Surveys {
				ids = append(ids, s.ID)
			}
			return ids, it.Count
		}
	}
	return nil, -1
}

// warning returns the 1201 warning about type name, as "returned/count".
func (b v2Body) warning(code int, name string) string {
	for _, w := range b.Warnings {
		if w.Code == code && w.Name == name {
			return fmt.Sprintf("%d/%d", w.Returned, w.Count)
		}
	}
	return ""
}

// sixtyID is the id of customer 700's k-th sms, sent at minute k/2: a
// permutation of 70000-70059, so that ids follow neither time nor the
// import.
func sixtyID(k int) int { return 70000 + k*37%60 }

// sixtyInOrder is customer 700's sms ids oldest first: by sent time, then id.
func sixtyInOrder() []int64 {
	type m struct {
		id int64
		at int
	}
	var ms []m
	for k := range 60 {
		ms = append(ms, m{int64(sixtyID(k)), k / 2})
	}
	slices.SortFunc(ms, func(a, b m) int {
		if a.at != b.at {
			return a.at - b.at
		}
		return int(a.id - b.id)
	})
	var ids []int64
	for _, x := range ms {
		ids = append(ids, x.id)
	}
	return ids
}

// TestNoSilentCut: v2 pages with limit and offset like v1.1 (default 50),
// and warnings name every list cut, with how many of how many.
func TestNoSilentCut(t *testing.T) {
	e := newEnv(t, 0)
	contractCustomers(t, e)
	all := sixtyInOrder()
	for _, tt := range []struct {
		query      string
		want       []int64
		sms, phone string // the 1201 warnings, "" for none
	}{
		{"", all[:50], "50/60", "50/60"},
		{"&offset=50", all[50:], "10/60", "10/60"},
		{"&limit=60", all, "", ""},
		{"&limit=500", all, "", ""},
		{"&limit=7&offset=56", all[56:], "4/60", "4/60"},
		{"&offset=60", nil, "0/60", "0/60"},
		{"&limit=0", nil, "0/60", "0/60"},
		{"&type=sms&limit=10&offset=5", all[5:15], "10/60", ""},
	} {
		b := e.v2Get(t, "identifierName=mobile&identifierValue=sixty"+tt.query)
		if ids, count := b.ids("sms"); count != 60 || !slices.Equal(ids, tt.want) {
			t.Errorf("%s: sms count %d, ids %v, want %v", tt.query, count, ids, tt.want)
		}
		if got := b.warning(1201, "sms"); got != tt.sms {
			t.Errorf("%s: sms warning %q, want %q (%+v)", tt.query, got, tt.sms, b.Warnings)
		}
		if got := b.warning(1201, "phone"); got != tt.phone {
			t.Errorf("%s: phone warning %q, want %q", tt.query, got, tt.phone)
		}
	}
	// Pages put end to end are the whole list, each once, in order.
	var paged []int64
	for offset := 0; offset < 60; offset += 7 {
		ids, _ := e.v2Get(t, fmt.Sprintf("identifierName=mobile&identifierValue=sixty&type=sms&limit=7&offset=%d", offset)).ids("sms")
		paged = append(paged, ids...)
	}
	if !slices.Equal(paged, all) {
		t.Errorf("pages of 7: %v, want %v", paged, all)
	}
}

// TestOldestFirst: messages within a type, in both shims, oldest first
// (sent time, then id), limit and offset paging in that order; v2 surveys
// too. GraphQL keeps newest first (graph's own tests).
func TestOldestFirst(t *testing.T) {
	e := newEnv(t, 0)
	contractCustomers(t, e)
	all := sixtyInOrder()
	rec := e.get(e.v11, "/v1.1/customer/interaction?mobile=sixty&type=sms&limit=5&offset=3")
	var v11 struct {
		Response struct {
			Customer struct {
				Interactions struct {
					Network []struct {
						Interaction []struct {
							Messages struct {
								Message []struct {
									ID int64 `json:"id"`
								} `json:"message"`
							} `json:"messages"`
						} `json:"interaction"`
					} `json:"network"`
				} `json:"interactions"`
			} `json:"customer"`
		} `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &v11); err != nil || len(v11.Response.Customer.Interactions.Network) != 1 {
		t.Fatalf("v1.1: %v %s", err, rec.Body)
	}
	var got []int64
	for _, m := range v11.Response.Customer.Interactions.Network[0].Interaction[0].Messages.Message {
		got = append(got, m.ID)
	}
	if !slices.Equal(got, all[3:8]) {
		t.Errorf("v1.1 sms limit 5 offset 3: %v, want %v", got, all[3:8])
	}
	if ids, _ := e.v2Get(t, "identifierName=mobile&identifierValue=sixty&type=phone&limit=4&offset=1").ids("phone"); !slices.Equal(ids, all[1:5]) {
		t.Errorf("v2 phone: %v, want %v", ids, all[1:5])
	}
	if ids, _ := e.v2Get(t, "identifierName=mobile&identifierValue=surveyed&type=survey").ids("survey"); !slices.Equal(ids, []int64{75001, 75002, 75000}) {
		t.Errorf("v2 surveys: %v, want 75001 (Jan 5), 75002 (Jan 12), 75000 (Jan 20)", ids)
	}
	if ids, _ := e.v2Get(t, "identifierName=mobile&identifierValue=surveyed&type=survey&limit=1&offset=2").ids("survey"); !slices.Equal(ids, []int64{75000}) {
		t.Errorf("v2 surveys offset 2: %v", ids)
	}
}

// TestLimitAboveTheMaximum: v1.1 (and v2) take a limit above 500 as 500;
// count still gives the total, v2 warns.
func TestLimitAboveTheMaximum(t *testing.T) {
	e := newEnv(t, 0)
	contractCustomers(t, e)
	for _, limit := range []string{"501", "1000", "99999999999999999999"} {
		rec := e.get(e.v11, "/v1.1/customer/interaction?mobile=many&type=sms&limit="+limit)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"count":600,"type":"sms"`) || strings.Count(rec.Body.String(), `"reciever"`) != 500 {
			t.Errorf("v1.1 limit %s: %d, %d messages", limit, rec.Code, strings.Count(rec.Body.String(), `"reciever"`))
		}
		b := e.v2Get(t, "identifierName=mobile&identifierValue=many&type=sms&limit="+limit)
		if ids, count := b.ids("sms"); len(ids) != 500 || count != 600 || ids[0] != 71000 || b.warning(1201, "sms") != "500/600" {
			t.Errorf("v2 limit %s: %d of %d, first %v, warnings %+v", limit, len(ids), count, ids[:1], b.Warnings)
		}
	}
}

// TestTypeImpliesNetwork: a type the documents tie to networks is looked
// for there when no network is asked for; a pair they rule out is invalid.
func TestTypeImpliesNetwork(t *testing.T) {
	e := newEnv(t, 0)
	contractCustomers(t, e)
	for _, tt := range []struct {
		query, network, typ string
		count               int
		elsewhere           string // 1202 warning, "returned/count"
	}{
		{"identifierValue=tweeter&type=tweet", "twitter", "tweet", 1, ""},
		{"identifierValue=tweeter&type=TWEET", "twitter", "tweet", 1, ""},
		{"identifierValue=tweeter&type=mention", "twitter", "mention", 0, ""},
		{"identifierValue=tweeter&type=retweet", "twitter", "retweet", 0, ""},
		{"identifierValue=tweeter&type=like", "facebook", "like", 0, ""},
		{"identifierValue=tweeter&type=comment", "facebook", "comment", 0, ""},
		{"identifierValue=tweeter&type=feedback", "capillary", "feedback", 0, ""},
		{"identifierValue=tweeter&type=email", "capillary", "email", 1, ""},
		{"identifierValue=tweeter&type=checkin", "foursquare", "checkin", 0, ""},
		{"identifierValue=fbcheck&type=checkin", "facebook", "checkin", 1, ""},
		{"identifierValue=bothcheck&type=checkin", "foursquare", "checkin", 2, "0/1"},
		{"identifierValue=bothcheck&type=checkin&network=facebook", "facebook", "checkin", 1, ""},
		{"identifierValue=tweeter&network=twitter", "twitter", "tweet", 1, ""},
	} {
		b := e.v2Get(t, "identifierName=mobile&"+tt.query)
		ids, count := b.ids(tt.typ)
		if b.Name != tt.network || count != tt.count || len(ids) != tt.count {
			t.Errorf("%s: %s with %s %d (%d listed), want %s with %d", tt.query, b.Name, tt.typ, count, len(ids), tt.network, tt.count)
		}
		if got := b.warning(1202, tt.typ); got != tt.elsewhere {
			t.Errorf("%s: 1202 warning %q, want %q (%+v)", tt.query, got, tt.elsewhere, b.Warnings)
		}
	}
	// v1.1 shows every network a type is on that has some.
	for _, tt := range []struct{ query, want string }{
		{"mobile=tweeter&type=tweet", `"network":[{"name":"twitter","interaction":[{"messages":`},
		{"mobile=tweeter&type=like", `"network":[{"name":"facebook","interaction":[{"last_interaction_time":"null","used_status":false,"count":0,"type":"like"}]}]`},
		{"mobile=bothcheck&type=checkin", `{"name":"facebook","interaction":[{"messages"`},
		{"mobile=bothcheck&type=checkin", `{"name":"foursquare","interaction":[{"messages"`},
	} {
		if rec := e.get(e.v11, "/v1.1/customer/interaction?"+tt.query); rec.Code != 200 || !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("v1.1 %s: %d %s", tt.query, rec.Code, rec.Body)
		}
	}
	// Every pair the documents rule out is invalid, on both shims.
	for _, typ := range interaction.Types {
		for _, n := range interaction.Networks {
			if typ.On(n) {
				continue
			}
			q := "network=" + string(n) + "&type=" + string(typ)
			if rec := e.get(e.v2, "/v2/customers/interaction?identifierName=mobile&identifierValue=tweeter&"+q); rec.Code != 400 || !strings.Contains(rec.Body.String(), `"code":1103`) {
				t.Errorf("v2 %s: %d %s", q, rec.Code, rec.Body)
			}
			if rec := e.get(e.v11, "/v1.1/customer/interaction?mobile=tweeter&"+q); rec.Code != 400 || !strings.Contains(rec.Body.String(), `"code":1103`) {
				t.Errorf("v1.1 %s: %d %s", q, rec.Code, rec.Body)
			}
		}
	}
}

// TestEdgeErrors: failures of the request rather than its inputs keep
// their HTTP status as their code, in each route's envelope and format.
func TestEdgeErrors(t *testing.T) {
	e := newEnv(t, 0)
	v11, v2 := "/v1.1/customer/interaction?mobile=919988221100", "/v2/customers/interaction?identifierName=mobile&identifierValue=919988221100"
	v11Status := func(code int, msg string) string {
		return fmt.Sprintf(`{"response":{"status":{"success":"false","code":%d,"message":"%s"}}}`, code, msg)
	}
	for _, tt := range []struct {
		method, target string
		header         []string
		status         int
		body           string // the whole body, "" to check only the status
		xml            bool
	}{
		{"GET", v11, []string{"Authorization", "Basic bad"}, 401, v11Status(401, "invalid or missing API credentials"), false},
		{"GET", v11 + "&format=xml", []string{"Authorization", "Basic bad"}, 401, "", true},
		{"GET", v2, []string{"Authorization", "Basic bad"}, 401, `{"errors":[{"code":401,"message":"invalid or missing API credentials"}]}`, false},
		{"POST", v11, nil, 405, v11Status(405, "method POST is not allowed: this route serves GET and HEAD"), false},
		{"PUT", v11 + "&format=xml", nil, 405, "", true},
		{"DELETE", v11, []string{"Accept", "application/xml"}, 405, "", true},
		{"POST", v2, nil, 405, `{"errors":[{"code":405,"message":"method POST is not allowed: this route serves GET and HEAD"}]}`, false},
		{"PATCH", v2, nil, 405, "", false},
		{"OPTIONS", v2, nil, 405, "", false},
	} {
		rec := e.do(e.edge, tt.method, tt.target, tt.header...)
		ct := rec.Header().Get("Content-Type")
		if rec.Code != tt.status || tt.body != "" && strings.TrimSpace(rec.Body.String()) != tt.body ||
			tt.xml != strings.HasPrefix(ct, "application/xml") || !tt.xml && !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s %s: %d %s %s", tt.method, tt.target, rec.Code, ct, rec.Body)
		}
		if tt.status == 405 && rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: Allow %q", tt.method, tt.target, rec.Header().Get("Allow"))
		}
	}

	// 429 once over the organisation's rate, with Retry-After.
	e.org.RateLimit = 1
	e.get(e.edge, v2)
	for _, target := range []string{v11, v11 + "&format=xml", v2} {
		rec := e.get(e.edge, target)
		if rec.Code != 429 || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "429") {
			t.Errorf("%s over the limit: %d %v %s", target, rec.Code, rec.Header(), rec.Body)
		}
	}
}

// failingReader fails every read with err.
type failingReader struct {
	interaction.Reader
	err error
}

func (f failingReader) Summaries(context.Context, interaction.OrgID, []int64, interaction.Filter) ([]interaction.Summary, error) {
	return nil, f.err
}

// TestStoreFailures: a store that does not answer is 503 with Retry-After,
// any other failure 500 with nothing of it shown; both in the envelope.
func TestStoreFailures(t *testing.T) {
	e := newEnv(t, 0)
	for _, tt := range []struct {
		err    error
		status int
		msg    string
	}{
		{fmt.Errorf("read summaries: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), 503, "the service did not answer in time; retry later"},
		{fmt.Errorf("read summaries: %w", context.DeadlineExceeded), 503, "the service did not answer in time; retry later"},
		{errors.New("sql: secret internals"), 500, "internal error"},
	} {
		e.edge = edgeHandler{httpapi.NewServer(httpapi.DefaultConfig(), httpapi.Deps{
			Auth: stubAuth{e}, Limiter: ratelimit.NewMemory(), Reader: failingReader{e.db, tt.err},
			V11: rest.V11(rest.Options{}), V2: rest.V2(rest.Options{}), V11Error: rest.WriteV11Error, V2Error: rest.WriteV2Error,
		})}
		for _, target := range []string{"/v1.1/customer/interaction?mobile=919988221100", "/v1.1/customer/interaction?mobile=919988221100&format=xml",
			"/v2/customers/interaction?identifierName=mobile&identifierValue=919988221100"} {
			rec := e.get(e.edge, target)
			body := rec.Body.String()
			if rec.Code != tt.status || !strings.Contains(body, tt.msg) || strings.Contains(body, "secret") ||
				(tt.status == 503) != (rec.Header().Get("Retry-After") != "") {
				t.Errorf("%v, %s: %d %v %s", tt.err, target, rec.Code, rec.Header(), body)
			}
		}
	}
	_ = http.StatusOK
}
