package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// CORS: browser dashboards on other origins may call the API when their
// origin is on an exact allow-list. Nothing is open by default: with no
// origins the middleware is not installed and no response carries a CORS
// header; a request from an origin off the list is served as if CORS did
// not exist (the browser then refuses the page the answer).

// corsAllowMethods are the API's methods: GraphQL over GET and POST, the
// REST shims over GET (HEAD needs no preflight).
const corsAllowMethods = "GET, POST"

// corsAllowHeaders are the request headers a dashboard may send: HTTP Basic
// credentials, the JSON body's type, the response types GraphQL clients
// ask for, the vendor's request id, W3C trace context, and the headers
// Apollo Client and Apollo's CSRF protection add. Fixed, not echoed from
// the preflight, so what a browser may send is reviewable here.
var corsAllowHeaders = strings.Join([]string{
	"Authorization", "Content-Type", "Accept", RequestIDHeader,
	"traceparent", "tracestate",
	"apollographql-client-name", "apollographql-client-version",
	"apollo-require-preflight", "x-apollo-operation-name",
}, ", ")

// corsExposeHeaders are the response headers a page's script may read
// besides the CORS-safelisted ones: the request id to quote in a support
// ticket, and the rate limit to back off by.
var corsExposeHeaders = strings.Join([]string{
	RequestIDHeader, "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
}, ", ")

// corsMaxAge is how long, in seconds, a browser may reuse a preflight's
// answer: ten minutes spares a dashboard a preflight per refresh, and a
// changed allow-list reaches browsers within that. (Chromium caps it at
// two hours.)
const corsMaxAge = "600"

// ParseOrigins checks a comma-separated allow-list of origins and returns
// each as a browser sends it in the Origin header (lower case, no default
// port), so matching is exact string comparison. An origin is
// scheme://host[:port] with scheme http or https and nothing after; a
// wildcard, "null" or a path is an error, since each would open the API
// wider than the operator wrote.
func ParseOrigins(list string) ([]string, error) {
	var origins []string
	for s := range strings.SplitSeq(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		o, err := canonicalOrigin(s)
		if err != nil {
			return nil, fmt.Errorf("origin %q: %w", s, err)
		}
		if !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	return origins, nil
}

func canonicalOrigin(s string) (string, error) {
	const want = "want scheme://host[:port], e.g. https://dashboard.example.com"
	if s == "*" || s == "null" {
		return "", fmt.Errorf("only exact origins are allowed (%s)", want)
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("not a URL (%s)", want)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("scheme must be http or https (%s)", want)
	}
	if u.Path == "/" {
		return "", fmt.Errorf("an origin has no trailing slash: browsers send none (%s)", want)
	}
	if u.Opaque != "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(s, "?#") {
		return "", fmt.Errorf("an origin has no user, path, query or fragment (%s)", want)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" || strings.Contains(host, "*") {
		return "", fmt.Errorf("no host (%s)", want)
	}
	for _, r := range host {
		if r > 0x7f {
			return "", fmt.Errorf("host %q is not ASCII: give its punycode (xn--) form, as browsers send it", host)
		}
	}
	port := u.Port()
	if port == "" && strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("empty port (%s)", want)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("port %q out of range", port)
		}
		port = strconv.Itoa(n)
		if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
			port = "" // browsers leave the default port out
		}
	}
	if port != "" {
		return scheme + "://" + net.JoinHostPort(host, port), nil
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // IPv6, as JoinHostPort would write it
	}
	return scheme + "://" + host, nil
}

// cors answers preflights from allowed origins itself, before any route,
// authentication or rate limit (a browser sends a preflight without
// credentials, so it could not pass them), and marks every other response
// to an allowed origin as readable by it.
func cors(origins []string, next http.Handler) http.Handler {
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[o] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// The answer depends on Origin whether it is allowed or not: a
		// cache must not hand one origin's answer to another.
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if !allowed[origin] {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if info := infoFrom(r.Context()); info != nil {
				info.route = "preflight" // logged and counted apart from the API
			}
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", corsAllowMethods)
			h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
			h.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Allow-Origin", origin)
		// Credentials: a dashboard that lets the browser send the Basic
		// credentials it holds (fetch's credentials: "include") is
		// answered too; safe only because the origin is echoed exactly,
		// never "*".
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
		next.ServeHTTP(w, r)
	})
}
