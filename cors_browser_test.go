package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestCORSInBrowser: a page served from one loopback origin calls
// Touchpoint on another (another port) with fetch(), as a dashboard would:
// the browser lets it read the answer when its origin is in
// --cors-origins, and rejects the fetch when the origin is not, or when
// the server allows none.
func TestCORSInBrowser(t *testing.T) {
	ctx := newBrowser(t, 90*time.Second)
	page := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><title>dashboard</title><p>dashboard</p>")
	}
	allowed := httptest.NewServer(http.HandlerFunc(page))
	defer allowed.Close()
	other := httptest.NewServer(http.HandlerFunc(page))
	defer other.Close()

	withCORS := startServer(t, filepath.Join(t.TempDir(), "cors.db"), "--cors-origins", allowed.URL)
	without := startServer(t, filepath.Join(t.TempDir(), "plain.db"))

	// The dashboard's call: POST JSON with Basic credentials (so the
	// browser preflights it), reading the body and a header the server
	// exposes. It resolves to the outcome rather than rejecting, so the
	// test sees why.
	call := func(api string) string {
		body, _ := json.Marshal(map[string]string{"query": `{ customer(mobile: "917385022695") { id } }`})
		return `fetch(` + jsString(api+"/graphql") + `, {method: "POST", headers: {
				"Authorization": ` + jsString(basicAuth(demoKeyID, demoSecret)) + `,
				"Content-Type": "application/json"}, body: ` + jsString(string(body)) + `})
			.then(r => r.text().then(b => "status " + r.status + " id " + (r.headers.get("X-Cap-Requestid") ? "yes" : "no") + " " + b),
				e => "rejected: " + e)`
	}
	for _, tc := range []struct {
		name, page, api string
		want            string
	}{
		{"allowed origin", allowed.URL, withCORS, `status 200 id yes {"data":{"customer":{"id":"565200001"}}}`},
		{"origin not in the list", other.URL, withCORS, "rejected: TypeError: Failed to fetch"},
		{"no --cors-origins", allowed.URL, without, "rejected: TypeError: Failed to fetch"},
	} {
		got := ""
		err := chromedp.Do(ctx, chromedp.Navigate(tc.page+"/"))
		if err == nil {
			got, err = chromedp.Run(ctx, chromedp.Evaluate[string](call(tc.api), chromedp.EvalAwaitPromise))
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got != tc.want {
			t.Errorf("%s: page %s calling %s: %q, want %q", tc.name, tc.page, tc.api, got, tc.want)
		}
	}
}

// jsString quotes s as a JavaScript string literal (JSON's is one).
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return strings.TrimSpace(string(b))
}
