package graph_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint/touchpoint/graph"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/testenv"
)

// TestStoreOutOfTime: when the request's context has run out (its deadline
// passed, or its client left) the real store's errors become a 503 with
// SERVICE_UNAVAILABLE, on POST and GET alike, or CLIENT_CLOSED_REQUEST;
// neither is logged as an internal error.
func TestStoreOutOfTime(t *testing.T) {
	db, org := testenv.DemoDB(t, 3)
	var logs bytes.Buffer
	gql := graph.NewHandler(graph.HandlerConfig{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ask := func(t *testing.T, ctx context.Context, method string, reader interaction.Reader) (*httptest.ResponseRecorder, response) {
		req := gqlRequest{Query: `{ customer(id: "565039505") { id interactions { network } } }`}.newRequest(method, "")
		return serve(t, gql, req.WithContext(edgeContext(ctx, reader, org, []interaction.Scope{interaction.ScopeRead})))
	}
	// runOut stands for a store that stops answering mid-request: its first
	// lookup waits until the request's context has ended, then asks the
	// real store, whose driver reports the ended context its own way.
	runOut := func(before func()) interaction.Reader {
		return stallingReader{Reader: db, before: before}
	}
	tests := []struct {
		name   string
		ctx    func() (context.Context, context.CancelFunc)
		method string
		status int
		code   string
	}{
		{"deadline, POST", shortDeadline, http.MethodPost, 503, graph.CodeUnavailable},
		{"deadline, GET", shortDeadline, http.MethodGet, 503, graph.CodeUnavailable},
		{"client gone", cancelled, http.MethodPost, 200, graph.CodeCanceled},
		{"deadline before gqlgen runs, POST", expired, http.MethodPost, 503, graph.CodeUnavailable},
		{"deadline before gqlgen runs, GET", expired, http.MethodGet, 503, graph.CodeUnavailable},
		{"client gone before gqlgen runs", gone, http.MethodPost, 200, graph.CodeCanceled},
		{"healthy", healthy, http.MethodGet, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			rec, r := ask(t, ctx, tt.method, runOut(func() {
				if tt.code == graph.CodeCanceled {
					cancel()
				}
				if tt.code != "" {
					<-ctx.Done()
				}
			}))
			code := ""
			if len(r.Errors) > 0 {
				code, _ = r.Errors[0].Extensions["code"].(string)
			}
			if rec.Code != tt.status || code != tt.code {
				t.Errorf("%d %s, want %d %q", rec.Code, rec.Body, tt.status, tt.code)
			}
			if tt.status == 503 && !strings.Contains(rec.Body.String(), "retry later") {
				t.Errorf("503 without its message: %s", rec.Body)
			}
		})
	}
	if strings.Contains(logs.String(), "internal error") {
		t.Errorf("logged as internal:\n%s", logs.String())
	}
}

func shortDeadline() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 50*time.Millisecond)
}

func cancelled() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

func expired() (context.Context, context.CancelFunc) {
	return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
}

func gone() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx, cancel
}

func healthy() (context.Context, context.CancelFunc) { return context.Background(), func() {} }

// stallingReader runs before ahead of each customer lookup.
type stallingReader struct {
	interaction.Reader
	before func()
}

func (s stallingReader) CustomersByIdentifier(ctx context.Context, org interaction.OrgID, kind interaction.IdentifierKind, values []string) ([]interaction.Customer, error) {
	s.before()
	return s.Reader.CustomersByIdentifier(ctx, org, kind, values)
}
