package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// skippedShoulds are the GraphQL-over-HTTP SHOULDs Touchpoint deliberately
// does not meet: gqlgen writes "data": null (rather than no data entry)
// when a document fails to parse or validate under
// application/graphql-response+json; clients read both the same way.
var skippedShoulds = map[string]bool{"D586": true, "5E5B": true}

// TestGraphQLOverHTTPAudit runs the graphql-http package's server audit
// (npm; scripts/test installs it with `npm ci` in scripts/audit) against a
// running server: every MUST must pass, and every SHOULD not listed above.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed; skipping the graphql-http audit")
	}
	if _, err := os.Stat("scripts/audit/node_modules/graphql-http"); err != nil {
		t.Skip("graphql-http not installed (cd scripts/audit && npm ci); skipping the audit")
	}
	base := startServer(t, filepath.Join(t.TempDir(), "touchpoint.db"))
	cmd := exec.Command(node, "audit.mjs", base+"/graphql", demoKeyID+":"+demoSecret)
	cmd.Dir = "scripts/audit"
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("audit: %v\n%s", err, stderr.String())
	}
	var ran int
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r struct{ ID, Name, Status, Reason string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit output %q: %v", sc.Text(), err)
		}
		ran++
		switch {
		case r.Status == "ok":
		case strings.HasPrefix(r.Name, "MUST"):
			t.Errorf("MUST failed: %s %s: %s", r.ID, r.Name, r.Reason)
		case strings.HasPrefix(r.Name, "SHOULD") && !skippedShoulds[r.ID]:
			t.Errorf("SHOULD failed: %s %s: %s", r.ID, r.Name, r.Reason)
		default:
			t.Logf("%s %s: %s (%s)", r.Status, r.ID, r.Name, r.Reason)
		}
	}
	if ran < 40 {
		t.Errorf("only %d audits ran", ran)
	}
}
