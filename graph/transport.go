package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// postJSON is the POST application/json transport. It replaces gqlgen's
// transport.POST for two reasons: that one quotes the whole request body
// back in its error when the body is not valid JSON, and it answers 422 to
// application/json clients for documents that fail to parse or validate,
// where the GraphQL-over-HTTP spec asks for 200 (400 stays for
// application/graphql-response+json). It decodes the body once; the HTTP
// middleware has already bounded its size.
type postJSON struct{}

var _ graphql.Transport = postJSON{}

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

func (postJSON) Supports(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("Upgrade") != "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == mediaJSON
}

// responseType picks application/graphql-response+json when the client
// lists it before (or without) application/json, else application/json.
func responseType(r *http.Request) string {
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
			switch mt {
			case mediaGraphQLResponse:
				return mediaGraphQLResponse
			case mediaJSON:
				return mediaJSON
			}
		}
	}
	return mediaJSON
}

func (postJSON) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	ctype := responseType(r)
	w.Header().Set("Content-Type", ctype)
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeResponse(w, http.StatusBadRequest, exec.DispatchError(ctx, gqlerror.List{badRequest("could not read the request body")}))
		return
	}
	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		writeResponse(w, http.StatusBadRequest, exec.DispatchError(ctx, gqlerror.List{
			badRequest("the request body is not a GraphQL request: a JSON object with query, operationName, variables and extensions"),
		}))
		return
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	rc, errs := exec.CreateOperationContext(ctx, &params)
	if errs != nil {
		status := http.StatusOK
		if ctype == mediaGraphQLResponse && errcode.GetErrorKind(errs) == errcode.KindProtocol {
			status = http.StatusBadRequest
		}
		writeResponse(w, status, exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs))
		return
	}
	responses, ctx := exec.DispatchOperation(ctx, rc)
	resp := responses(ctx)
	if resp == nil {
		// gqlgen answers nothing once the context is done before it runs.
		resp = outOfTime(ctx)
	}
	writeResponse(w, statusFor(resp), resp)
}

// statusFor is a response's status: 503 when the store did not answer in
// time, else 200.
func statusFor(resp *graphql.Response) int {
	if hasCode(resp, CodeUnavailable) {
		return http.StatusServiceUnavailable
	}
	return http.StatusOK
}

// outOfTime is the answer to a request whose context ended before gqlgen
// ran it: its deadline passed (SERVICE_UNAVAILABLE) or its client left.
func outOfTime(ctx context.Context) *graphql.Response {
	err := ctx.Err()
	return &graphql.Response{Errors: gqlerror.List{{Message: interaction.MessageOf(err),
		Extensions: map[string]any{"code": CodeOf(interaction.KindOf(err))}}}}
}

// hasCode reports whether any of resp's errors carries code.
func hasCode(resp *graphql.Response, code string) bool {
	for _, e := range resp.Errors {
		if c, _ := e.Extensions["code"].(string); c == code {
			return true
		}
	}
	return false
}

// getJSON is gqlgen's GET transport, but a response whose store did not
// answer in time is a 503, as on POST: the response middleware (observe)
// marks the writer before gqlgen writes the answer.
type getJSON struct{ transport.GET }

type unavailableKey struct{}

func (g getJSON) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	if r.Context().Err() != nil {
		w.Header().Set("Content-Type", responseType(r))
		resp := outOfTime(r.Context())
		writeResponse(w, statusFor(resp), resp)
		return
	}
	u := &unavailableWriter{ResponseWriter: w}
	g.GET.Do(u, r.WithContext(context.WithValue(r.Context(), unavailableKey{}, u)), exec)
}

// unavailableWriter turns an implicit 200 into a 503 once marked.
type unavailableWriter struct {
	http.ResponseWriter
	unavailable, wrote bool
}

func (u *unavailableWriter) WriteHeader(code int) {
	u.wrote = true
	u.ResponseWriter.WriteHeader(code)
}

func (u *unavailableWriter) Write(b []byte) (int, error) {
	if !u.wrote {
		u.wrote = true
		if u.unavailable {
			u.ResponseWriter.WriteHeader(http.StatusServiceUnavailable)
		}
	}
	return u.ResponseWriter.Write(b)
}

func (u *unavailableWriter) Unwrap() http.ResponseWriter { return u.ResponseWriter }

func badRequest(msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": "BAD_REQUEST"}}
}

// writeResponse writes resp. The data is gqlgen's own, already valid JSON,
// so it is written as it is, with no copy: json.Marshal would validate and
// compact it again, a measurable cost on a dashboard's 200 KB answer.
// Errors and extensions are small and go through encoding/json.
func writeResponse(w http.ResponseWriter, status int, resp *graphql.Response) {
	head := []byte(`{`)
	if len(resp.Errors) > 0 {
		errs, err := json.Marshal(resp.Errors)
		if err != nil {
			status, errs = http.StatusInternalServerError, []byte(`[{"message":"internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]`)
		}
		head = append(append(append(head, `"errors":`...), errs...), ',')
	}
	head = append(head, `"data":`...)
	data := resp.Data
	if len(data) == 0 {
		data = []byte("null")
	}
	tail := []byte(`}`)
	if len(resp.Extensions) > 0 {
		if ext, err := json.Marshal(resp.Extensions); err == nil {
			tail = append(append([]byte(`,"extensions":`), ext...), '}')
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(head)+len(data)+len(tail)))
	w.WriteHeader(status)
	w.Write(head)
	w.Write(data)
	w.Write(tail)
}
