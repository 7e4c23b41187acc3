package httpapi_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/touchpoint/touchpoint/internal/httpapi"
)

func TestParseOrigins(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string // part of the error; "" for none
	}{
		{in: "", want: nil},
		{in: " , ", want: nil},
		{in: "https://dash.example.com", want: []string{"https://dash.example.com"}},
		{in: "HTTPS://Dash.Example.COM:443, http://127.0.0.1:8081,http://127.0.0.1:8081", want: []string{"https://dash.example.com", "http://127.0.0.1:8081"}},
		{in: "http://localhost:80", want: []string{"http://localhost"}},
		{in: "http://[::1]:3000", want: []string{"http://[::1]:3000"}},
		{in: "http://[::1]", want: []string{"http://[::1]"}},
		{in: "*", wantErr: "only exact origins"},
		{in: "null", wantErr: "only exact origins"},
		{in: "https://*.example.com", wantErr: "no host"},
		{in: "dash.example.com", wantErr: "scheme must be http or https"},
		{in: "ftp://dash.example.com", wantErr: "scheme must be http or https"},
		{in: "https://dash.example.com/", wantErr: "trailing slash"},
		{in: "https://dash.example.com/app", wantErr: "no user, path"},
		{in: "https://dash.example.com?x=1", wantErr: "no user, path"},
		{in: "https://dash.example.com?", wantErr: "no user, path"},
		{in: "https://u:p@dash.example.com", wantErr: "no user, path"},
		{in: "https://dash.example.com:", wantErr: "empty port"},
		{in: "https://dash.example.com:99999", wantErr: "out of range"},
		{in: "https://bücher.example", wantErr: "punycode"},
		{in: "https://ok.example, https://", wantErr: `origin "https://"`},
	}
	for _, tt := range tests {
		got, err := httpapi.ParseOrigins(tt.in)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ParseOrigins(%q): %v", tt.in, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseOrigins(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.wantErr)
		case tt.wantErr == "" && !slices.Equal(got, tt.want):
			t.Errorf("ParseOrigins(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCORS drives the real edge: a preflight from an allowed origin is
// answered before authentication, an allowed origin's requests (even
// refused ones) are readable by it, and an origin off the list, or a
// server with no list, gets no CORS header at all.
func TestCORS(t *testing.T) {
	const allowed = "http://127.0.0.1:5173"
	cfg := httpapi.DefaultConfig()
	cfg.CORSOrigins = []string{allowed, "https://dash.example.com"}
	withCORS := newFixtureConfig(t, cfg, 0)
	without := newFixture(t, 0)

	preflight := map[string]string{"Origin": allowed, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}
	tests := []struct {
		name         string
		f            *fixture
		method, path string
		cred         bool
		headers      map[string]string
		status       int
		want         map[string]string // "" means the header must be absent
	}{
		{name: "preflight from an allowed origin, no credentials", f: withCORS, method: "OPTIONS", path: "/graphql", headers: preflight,
			status: 204, want: map[string]string{
				"Access-Control-Allow-Origin": allowed, "Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Methods": "GET, POST", "Access-Control-Max-Age": "600",
				"Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
			}},
		{name: "preflight for a REST route", f: withCORS, method: "OPTIONS", path: "/v2/customers/interaction",
			headers: map[string]string{"Origin": "https://dash.example.com", "Access-Control-Request-Method": "GET"},
			status:  204, want: map[string]string{"Access-Control-Allow-Origin": "https://dash.example.com"}},
		{name: "preflight from another origin is not answered", f: withCORS, method: "OPTIONS", path: "/graphql",
			headers: map[string]string{"Origin": "http://127.0.0.1:5174", "Access-Control-Request-Method": "POST"},
			status:  405, want: map[string]string{"Access-Control-Allow-Origin": "", "Access-Control-Allow-Methods": "", "Vary": "Origin"}},
		{name: "an origin differing only in case is another origin", f: withCORS, method: "OPTIONS", path: "/graphql",
			headers: map[string]string{"Origin": "https://Dash.example.com", "Access-Control-Request-Method": "POST"},
			status:  405, want: map[string]string{"Access-Control-Allow-Origin": ""}},
		{name: "preflight without CORS configured", f: without, method: "OPTIONS", path: "/graphql", headers: preflight,
			status: 405, want: map[string]string{"Access-Control-Allow-Origin": "", "Vary": ""}},
		{name: "plain OPTIONS from an allowed origin is no preflight", f: withCORS, method: "OPTIONS", path: "/graphql",
			headers: map[string]string{"Origin": allowed}, status: 405, want: map[string]string{"Access-Control-Allow-Methods": ""}},
		{name: "request from an allowed origin", f: withCORS, method: "GET", path: "/v2/customers/interaction", cred: true,
			headers: map[string]string{"Origin": allowed}, status: 200, want: map[string]string{
				"Access-Control-Allow-Origin": allowed, "Access-Control-Allow-Credentials": "true", "Vary": "Origin",
				"Access-Control-Expose-Headers": "X-Cap-Requestid, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset",
				"Access-Control-Allow-Methods":  "",
			}},
		{name: "refused request from an allowed origin stays readable", f: withCORS, method: "GET", path: "/v2/customers/interaction",
			headers: map[string]string{"Origin": allowed}, status: 401, want: map[string]string{"Access-Control-Allow-Origin": allowed}},
		{name: "request from another origin", f: withCORS, method: "GET", path: "/v2/customers/interaction", cred: true,
			headers: map[string]string{"Origin": "https://evil.example"}, status: 200, want: map[string]string{
				"Access-Control-Allow-Origin": "", "Access-Control-Allow-Credentials": "", "Access-Control-Expose-Headers": "", "Vary": "Origin",
			}},
		{name: "request without Origin", f: withCORS, method: "GET", path: "/v2/customers/interaction", cred: true,
			status: 200, want: map[string]string{"Access-Control-Allow-Origin": "", "Vary": "Origin"}},
		{name: "request without CORS configured", f: without, method: "GET", path: "/v2/customers/interaction", cred: true,
			headers: map[string]string{"Origin": allowed}, status: 200, want: map[string]string{"Access-Control-Allow-Origin": "", "Vary": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred := ""
			if tt.cred {
				cred = tt.f.key
			}
			resp, _ := tt.f.do(t, tt.method, tt.path, cred, nil, pairs(tt.headers)...)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			for k, want := range tt.want {
				got := strings.Join(resp.Header.Values(k), ", ")
				if got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
		})
	}
	// The preflight's allowed headers name at least what a dashboard's
	// fetch of GraphQL sends.
	resp, _ := withCORS.do(t, "OPTIONS", "/graphql", "", nil, pairs(preflight)...)
	got := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
	for _, h := range []string{"authorization", "content-type", "accept"} {
		if !strings.Contains(got, h) {
			t.Errorf("Access-Control-Allow-Headers %q lacks %s", got, h)
		}
	}
}

// pairs is header as the name and value pairs fixture.do takes.
func pairs(header map[string]string) []string {
	var out []string
	for k, v := range header {
		out = append(out, k, v)
	}
	return out
}
