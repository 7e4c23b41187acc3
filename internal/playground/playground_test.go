package playground

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPage(t *testing.T) {
	h := Handler(Options{DemoCredentials: `demo:"<x>`})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %v", rec.Code, rec.Header())
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		if rec.Header().Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-eval") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP too loose: %s", csp)
	}
	// No inline script, nothing from another origin, settings escaped.
	if strings.Contains(body, "<script>") || strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Error("inline or remote script in the page")
	}
	if !strings.Contains(body, `data-demo-credentials="demo:&#34;&lt;x&gt;"`) {
		t.Errorf("demo credentials not escaped into the attribute: %s", body)
	}
	if !strings.Contains(body, `data-examples="[{&#34;query&#34;:&#34;# Everything that happened`) {
		t.Errorf("no examples in the page")
	}
	if !strings.Contains(body, `data-default-query="`) {
		t.Error("no default query")
	}
}

func TestAssets(t *testing.T) {
	h := Handler(Options{})
	for _, name := range []string{"graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js", "playground.js", "playground.css"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", Prefix+name, nil))
		if rec.Code != 200 || rec.Body.Len() == 0 || rec.Header().Get("ETag") == "" {
			t.Errorf("%s: %d, %d bytes, ETag %q", name, rec.Code, rec.Body.Len(), rec.Header().Get("ETag"))
			continue
		}
		req := httptest.NewRequest("GET", Prefix+name, nil)
		req.Header.Set("If-None-Match", rec.Header().Get("ETag"))
		rec2 := httptest.NewRecorder()
		h.ServeHTTP(rec2, req)
		if rec2.Code != 304 {
			t.Errorf("%s revalidation: %d", name, rec2.Code)
		}
	}
	for _, bad := range []string{Prefix + "nope.js", Prefix + "../page.html", Prefix + "VERSIONS/x"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", bad, nil))
		if rec.Code != 404 {
			t.Errorf("%s: %d", bad, rec.Code)
		}
	}
}
