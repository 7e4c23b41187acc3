package loader

import (
	"context"
	"net/http"
	"net/http/httptest"
)

type httpHandlerFunc func(ctx context.Context)

func (f httpHandlerFunc) ServeHTTP(_ http.ResponseWriter, r *http.Request) { f(r.Context()) }

func serve(h http.Handler, ctx context.Context) {
	r := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(ctx)
	h.ServeHTTP(httptest.NewRecorder(), r)
}
