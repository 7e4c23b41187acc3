package rest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestWriteKeepsTheEdgesVary: a success's Vary is added to what the edge
// has set already (CORS varies on Origin), never put in its place, or a
// browser's cache would serve one origin's answer to another.
func TestWriteKeepsTheEdgesVary(t *testing.T) {
	rec := httptest.NewRecorder()
	rec.Header().Set("Vary", "Origin")
	write(rec, httptest.NewRequest(http.MethodGet, "/v2/customers/interaction", nil), http.StatusOK, "application/json", []byte(`{}`))
	if got, want := strings.Join(rec.Header().Values("Vary"), ", "), "Origin, Authorization, Accept"; got != want {
		t.Errorf("Vary %q, want %q", got, want)
	}
}
