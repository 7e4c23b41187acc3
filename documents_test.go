package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/touchpoint/touchpoint/graph"
)

// TestServeTrustedDocuments: serve --trusted-documents runs the manifest's
// documents and refuses the rest, through the whole server (the HTTP edge's
// body checks included), over GET and POST, on both stores.
func TestServeTrustedDocuments(t *testing.T) {
	const (
		listed   = `{ customer(mobile: "917385022695") { id } }`
		unlisted = `{ customer(mobile: "917385022695") { id mobile } }`
	)
	hash := func(s string) string { b := sha256.Sum256([]byte(s)); return hex.EncodeToString(b[:]) }
	manifest, _ := json.Marshal(map[string]string{hash(listed): listed})
	path := filepath.Join(t.TempDir(), "persisted-documents.json")
	if err := os.WriteFile(path, manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	apq := func(h string) string {
		return `{"persistedQuery":{"version":1,"sha256Hash":"` + h + `"}}`
	}
	eachStore(t, func(t *testing.T, dsn string) {
		base := startServer(t, dsn, "--trusted-documents", path)
		c := client{t: t, base: base, auth: basicAuth(demoKeyID, demoSecret)}
		q, _ := json.Marshal(listed)
		u, _ := json.Marshal(unlisted)
		tests := []struct {
			name, method, target, body string
			refuse                     bool
		}{
			{name: "text", method: "POST", target: "/graphql", body: `{"query":` + string(q) + `}`},
			{name: "text", method: "GET", target: "/graphql?query=" + url.QueryEscape(listed)},
			{name: "documentId", method: "POST", target: "/graphql", body: `{"documentId":"` + hash(listed) + `"}`},
			{name: "documentId", method: "GET", target: "/graphql?documentId=" + hash(listed)},
			{name: "APQ hash", method: "POST", target: "/graphql", body: `{"extensions":` + apq(hash(listed)) + `}`},
			{name: "APQ hash", method: "GET", target: "/graphql?extensions=" + url.QueryEscape(apq(hash(listed)))},
			{name: "unlisted", method: "POST", target: "/graphql", body: `{"query":` + string(u) + `}`, refuse: true},
			{name: "unlisted", method: "GET", target: "/graphql?query=" + url.QueryEscape(unlisted), refuse: true},
			{name: "unknown documentId", method: "GET", target: "/graphql?documentId=" + hash(unlisted), refuse: true},
			{name: "APQ registration", method: "POST", target: "/graphql", body: `{"query":` + string(u) + `,"extensions":` + apq(hash(unlisted)) + `}`, refuse: true},
			{name: "APQ registration", method: "GET", target: "/graphql?query=" + url.QueryEscape(unlisted) + "&extensions=" + url.QueryEscape(apq(hash(unlisted))), refuse: true},
		}
		for _, tt := range tests {
			status, body, _ := c.do(tt.method, tt.target, tt.body)
			ok := status == 200 && body == `{"data":{"customer":{"id":"565200001"}}}`
			if tt.refuse {
				ok = strings.Contains(body, `"code":"`+graph.CodeNotTrusted+`"`) && strings.Contains(body, `"data":null`)
			}
			if !ok {
				t.Errorf("%s %s (refused: %v): %d %s", tt.method, tt.name, tt.refuse, status, body)
			}
		}
	})
}

// TestTrustedDocumentsStartup: a manifest that cannot be read or does not
// verify stops serve before it listens.
func TestTrustedDocumentsStartup(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"`+strings.Repeat("0", 64)+`": "{ customers { id } }"}`), 0o644)
	for _, tc := range []struct{ file, err string }{
		{filepath.Join(dir, "missing.json"), "--trusted-documents: open"},
		{bad, "--trusted-documents " + bad + `: entry "` + strings.Repeat("0", 64) + `": the SHA-256 of the document is`},
	} {
		out, errOut, code := runArgs(t, nil, "", "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(dir, "t.db"), "--trusted-documents", tc.file)
		if code == 0 || out != "" || !strings.Contains(errOut, tc.err) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want an error with %q", tc.file, code, out, errOut, tc.err)
		}
	}
}
