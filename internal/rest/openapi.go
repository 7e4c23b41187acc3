package rest

import (
	_ "embed"
	"net/http"
)

// openAPI describes both shims: every parameter, response shape, header
// and code. The tests validate the responses they see against it, so the
// two cannot drift apart.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPIDocument returns the OpenAPI 3.1 document of the shims.
func OpenAPIDocument() []byte { return openAPI }

// OpenAPI serves the document (at /openapi.json): open, so that client
// generators can fetch it without credentials; it holds no data.
func OpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		write(w, r, http.StatusOK, "application/json; charset=utf-8", openAPI)
	})
}
