package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// GraphQL over HTTP is this package's, whole: the checks a request passes
// before gqlgen sees it (checkRequest), the two transports (GET and POST
// application/json, which share execute, so a document answers with the
// same status and code whichever way it came) and the error envelope of
// the errors raised around them (WriteError, which the HTTP edge calls for
// its own: credentials, rate limits, body limits).
//
// Statuses follow the GraphQL-over-HTTP spec: a document that fails to
// parse or validate is 200 for application/json clients and 400 for
// application/graphql-response+json ones; a request that is not a GraphQL
// request at all is 400 either way.

const (
	mediaJSON            = "application/json"
	mediaGraphQLResponse = "application/graphql-response+json"
)

// checkRequest refuses what the GraphQL-over-HTTP spec says to refuse
// before a transport decodes anything: an Accept header allowing no JSON
// type (406) and a POST body that is not application/json (415), which
// gqlgen would answer with a bare 400 for want of a transport.
func checkRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case !acceptsJSON(r.Header.Values("Accept")):
			WriteError(w, r, interaction.Errorf(interaction.KindNotAcceptable,
				"responses are application/json or application/graphql-response+json"))
		case r.Method == http.MethodPost && !isJSON(r.Header.Get("Content-Type")):
			WriteError(w, r, interaction.Errorf(interaction.KindUnsupportedMedia, "a POST body must be application/json"))
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == mediaJSON
}

// acceptsJSON reports whether an Accept header (absent means anything)
// allows one of the GraphQL response media types.
func acceptsJSON(values []string) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			switch mt {
			case mediaJSON, mediaGraphQLResponse, "application/*", "*/*":
				return true
			}
		}
	}
	return false
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

// postJSON is the POST application/json transport. It replaces gqlgen's
// transport.POST, which quotes the whole request body back in its error
// when the body is not valid JSON and answers 422 to application/json
// clients for documents that fail to parse or validate. It decodes the
// body once; the HTTP edge has bounded its size.
type postJSON struct{}

var _ graphql.Transport = postJSON{}

func (postJSON) Supports(r *http.Request) bool {
	return r.Method == http.MethodPost && r.Header.Get("Upgrade") == "" && isJSON(r.Header.Get("Content-Type"))
}

func (postJSON) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		// A body over the edge's limit (http.MaxBytesReader) is the
		// edge's error, in its words; any other failure to read is the
		// client's.
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			WriteError(w, r, TooLarge(mbe.Limit))
			return
		}
		refuse(w, r, exec, "could not read the request body")
		return
	}
	// documentId (the GraphQL-over-HTTP persisted-documents proposal,
	// which GraphQL Code Generator's clients send) has no field in
	// RawParams; trusted documents read it.
	var req struct {
		graphql.RawParams
		DocumentID string `json:"documentId"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		refuse(w, r, exec, "the request body is not a GraphQL request: a JSON object with query, operationName, variables and extensions")
		return
	}
	req.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(w, withDocumentID(r, req.DocumentID), exec, &req.RawParams)
}

// getJSON is the GET transport: the parameters come from the query string,
// and from there on it is POST's (gqlgen's own GET answers 422 for a
// document that does not parse, where POST and the spec say 200).
type getJSON struct{}

var _ graphql.Transport = getJSON{}

func (getJSON) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") == ""
}

func (getJSON) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	start := graphql.Now()
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		refuse(w, r, exec, "the query string does not parse")
		return
	}
	if q.Get("query") == "" && q.Get("extensions") == "" && q.Get("documentId") == "" {
		refuse(w, r, exec, "a GET request needs a query parameter")
		return
	}
	params := graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
	for _, p := range [...]struct {
		name string
		into *map[string]any
	}{{"variables", &params.Variables}, {"extensions", &params.Extensions}} {
		name, into := p.name, p.into
		if v := q.Get(name); v != "" {
			dec := json.NewDecoder(strings.NewReader(v))
			dec.UseNumber()
			if err := dec.Decode(into); err != nil {
				refuse(w, r, exec, name+" must be a JSON object")
				return
			}
		}
	}
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	execute(w, withDocumentID(r, q.Get("documentId")), exec, &params)
}

// execute runs a decoded request and writes its answer: the one path of
// both transports.
func execute(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, params *graphql.RawParams) {
	ctx := r.Context()
	ctype := responseType(r)
	w.Header().Set("Content-Type", ctype)
	params.Headers = r.Header
	rc, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		status := http.StatusOK
		if ctype == mediaGraphQLResponse && errcode.GetErrorKind(errs) == errcode.KindProtocol {
			status = http.StatusBadRequest
		}
		writeResponse(w, status, exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs))
		return
	}
	if r.Method == http.MethodGet && rc.Operation.Operation != ast.Query {
		// The spec's answer to a mutation over GET; the schema has none
		// today, so validation refuses one first.
		w.Header().Set("Allow", "POST")
		writeResponse(w, http.StatusMethodNotAllowed, exec.DispatchError(graphql.WithOperationContext(ctx, rc), gqlerror.List{
			{Message: "a GET request runs queries only; send other operations by POST", Extensions: map[string]any{"code": CodeMethodNotAllowed}},
		}))
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

// refuse answers a request that is not a GraphQL request: 400 with
// BAD_REQUEST, the one code not derived from an error kind (see kinds).
// It goes through gqlgen's error dispatch, so the metrics count it.
func refuse(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, msg string) {
	w.Header().Set("Content-Type", responseType(r))
	writeResponse(w, http.StatusBadRequest, exec.DispatchError(r.Context(), gqlerror.List{
		{Message: msg, Extensions: map[string]any{"code": CodeBadRequest}},
	}))
}

// TooLarge is the error of a body over limit bytes.
func TooLarge(limit int64) error {
	return interaction.Errorf(interaction.KindTooLarge, "request body larger than %d bytes", limit)
}

// WriteError writes err, raised before or around execution (by the HTTP
// edge or the checks above), in the GraphQL envelope with the status and
// code its kind maps to; an internal error shows nothing of itself. It is
// the GraphQL route's error writer for internal/httpapi.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	kind := interaction.KindOf(err)
	e := &gqlerror.Error{Message: interaction.MessageOf(err), Extensions: map[string]any{"code": CodeOf(kind)}}
	if e.Extensions["code"] == CodeInternal {
		e.Message = "internal error"
	}
	// No data entry: the request never reached execution.
	b, _ := json.Marshal(map[string]any{"errors": gqlerror.List{e}}) // strings only: cannot fail
	w.Header().Set("Content-Type", responseType(r))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(StatusOf(kind))
	w.Write(b)
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
