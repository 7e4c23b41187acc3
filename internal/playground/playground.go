// Package playground serves the GraphiQL playground from assets embedded in
// the binary (see scripts/update-graphiql.sh for where they come from), so
// the page works with no network beyond the Touchpoint server itself.
//
// Mount Handler at "/" and at Prefix ("/playground/"): it serves the page
// at any path outside Prefix and the assets under it. The page carries a
// strict Content-Security-Policy (no inline or remote scripts, connections
// only to the server itself); its settings reach the script as data
// attributes.
package playground

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Prefix is where the assets are served.
const Prefix = "/playground/"

// DefaultQuery opens the playground: a demo customer with a page of each
// interaction group.
const DefaultQuery = `# Welcome to Touchpoint. Press the run button (or Ctrl-Enter).
# The demo organisation holds the vendor samples' customers and about a
# thousand generated ones; open the docs (top left) for the whole schema.
query DemoCustomer {
  customer(mobile: "919988221100") {
    id
    email
    interactions(limit: 5) {
      network
      interactions {
        type
        count
        lastInteractionTime
        messages { id subject status sentAt deliveredAt }
      }
    }
  }
}
`

// Example is a query the playground opens in a tab of its own.
type Example struct {
	Name  string `json:"-"`
	Query string `json:"query"`
}

// Examples open beside DefaultQuery, one tab each: the timeline and the
// delivery counts, on the same demo customer.
var Examples = []Example{
	{"Timeline", `# Everything that happened with a customer, newest first, whatever the
# channel. For the next page, pass pageInfo.endCursor as after; for the
# page before, last: 10 with before: startCursor.
query Timeline($after: String) {
  customer(mobile: "919988221100") {
    timeline(first: 10, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges {
        cursor
        node {
          __typename
          ... on Message { id network type status subject sentAt }
          ... on MissedCall { id calledAt used }
          ... on Survey { id name submittedAt }
        }
      }
    }
  }
}
`},
	{"DeliveryCounts", `# How many messages of each group were delivered, failed or bounced,
# and the failed ones themselves (statuses and campaignIds filter counts
# and pages alike).
query DeliveryCounts {
  customer(mobile: "919988221100") {
    all: interactions(limit: 0) {
      network
      interactions { type count statusCounts { status count } }
    }
    failed: interactions(statuses: ["FAILED", "NOT-DELIVERED", "SOFT_BOUNCED"], limit: 5) {
      network
      interactions { type count messages { id status subject sentAt } }
    }
  }
}
`},
}

// examplesJSON is Examples as the page's script reads them (GraphiQL's
// defaultTabs).
var examplesJSON = func() string {
	b, err := json.Marshal(Examples)
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// Options configure the page.
type Options struct {
	// Endpoint is the GraphQL URL path; default "/graphql".
	Endpoint string
	// DemoCredentials ("KEY:SECRET") are used until the user enters a key;
	// empty outside demo mode.
	DemoCredentials string
	// Title is the page title; default "Touchpoint playground".
	Title string
}

//go:embed page.html
var pageHTML string

//go:embed assets
var assets embed.FS

var page = template.Must(template.New("page").Parse(pageHTML))

// csp allows what GraphiQL needs and nothing more: its own scripts and
// styles (React sets inline style attributes), data: fonts and images from
// its CSS, and requests to this server only.
const csp = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
}

// Handler serves the page and its assets.
func Handler(o Options) http.Handler {
	if o.Endpoint == "" {
		o.Endpoint = "/graphql"
	}
	if o.Title == "" {
		o.Title = "Touchpoint playground"
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, struct {
		Options
		Prefix       string
		DefaultQuery string
		Examples     string
	}{o, Prefix, DefaultQuery, examplesJSON}); err != nil {
		panic(err) // the template is embedded: a failure is a build bug
	}
	body := buf.Bytes()
	sub, _ := fs.Sub(assets, "assets")
	etags := map[string]string{}
	fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(sub, p)
			sum := sha256.Sum256(b)
			etags[p] = `"` + hex.EncodeToString(sum[:8]) + `"`
		}
		return nil
	})
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		if name, ok := strings.CutPrefix(r.URL.Path, Prefix); ok {
			etag, known := etags[path.Clean(name)]
			if !known {
				http.NotFound(w, r)
				return
			}
			// Assets change only with the binary: revalidate by ETag.
			w.Header().Set("ETag", etag)
			w.Header().Set("Cache-Control", "no-cache")
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/" + name
			files.ServeHTTP(w, r2)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(body)
	})
}
