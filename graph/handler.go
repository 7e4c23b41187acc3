package graph

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/touchpoint/touchpoint/internal/gqlguard"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/reqlog"
)

// Stable extensions.code values, besides gqlgen's own GRAPHQL_PARSE_FAILED
// and GRAPHQL_VALIDATION_FAILED.
const (
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeNotFound        = "NOT_FOUND"
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeRateLimited     = "RATE_LIMITED"
	CodeInternal        = "INTERNAL_SERVER_ERROR"
	// CodeBadRequest: the request is not a GraphQL request (a body that is
	// not a JSON object of query, operationName, variables and
	// extensions; a GET without a query).
	CodeBadRequest       = "BAD_REQUEST"
	CodeTooLarge         = "REQUEST_TOO_LARGE"
	CodeNotAcceptable    = "NOT_ACCEPTABLE"
	CodeUnsupportedMedia = "UNSUPPORTED_MEDIA_TYPE"
	// CodeMethodNotAllowed: an operation other than a query over GET.
	CodeMethodNotAllowed = "METHOD_NOT_ALLOWED"
	// CodeComplexity is gqlgen's code for an operation over the limit.
	CodeComplexity = "COMPLEXITY_LIMIT_EXCEEDED"
	// CodeUnavailable: the store did not answer within the request's
	// deadline; the response is a 503 with Retry-After.
	CodeUnavailable = "SERVICE_UNAVAILABLE"
	// CodeCanceled: the client went away; nobody reads it, but the error
	// is not counted as internal.
	CodeCanceled = "CLIENT_CLOSED_REQUEST"
)

// kinds is the one mapping from a domain error kind to its GraphQL code,
// and to the HTTP status of an answer that fails with it before execution
// (the edge's errors, the request checks). Inside execution every error is
// a 200 but SERVICE_UNAVAILABLE's 503 (see statusFor). A kind not listed
// is an internal error. KindInvalid is BAD_USER_INPUT wherever it comes
// from, as the README documents; the edge once called it BAD_REQUEST,
// which is kept for requests that are not GraphQL requests (refuse).
var kinds = map[interaction.Kind]struct {
	code   string
	status int
}{
	interaction.KindInvalid:          {CodeBadUserInput, http.StatusBadRequest},
	interaction.KindNotFound:         {CodeNotFound, http.StatusNotFound},
	interaction.KindUnauthorized:     {CodeUnauthenticated, http.StatusUnauthorized},
	interaction.KindForbidden:        {CodeForbidden, http.StatusForbidden},
	interaction.KindRateLimited:      {CodeRateLimited, http.StatusTooManyRequests},
	interaction.KindTooLarge:         {CodeTooLarge, http.StatusRequestEntityTooLarge},
	interaction.KindNotAcceptable:    {CodeNotAcceptable, http.StatusNotAcceptable},
	interaction.KindUnsupportedMedia: {CodeUnsupportedMedia, http.StatusUnsupportedMediaType},
	interaction.KindMethodNotAllowed: {CodeMethodNotAllowed, http.StatusMethodNotAllowed},
	interaction.KindUnavailable:      {CodeUnavailable, http.StatusServiceUnavailable},
	// Never read (the client left); the edge logs it as 499.
	interaction.KindCanceled: {CodeCanceled, 499},
}

// CodeOf maps a domain error kind to its GraphQL code.
func CodeOf(k interaction.Kind) string {
	if m, ok := kinds[k]; ok {
		return m.code
	}
	return CodeInternal
}

// StatusOf maps a domain error kind to the HTTP status of an answer that
// fails with it before execution.
func StatusOf(k interaction.Kind) int {
	if m, ok := kinds[k]; ok {
		return m.status
	}
	return http.StatusInternalServerError
}

// Disabled is the error for a feature the operator switched off: its
// extensions.code names the feature (INTROSPECTION_DISABLED), so a client
// can tell "not here" from "broken", and it is logged at info, not as an
// internal error.
type Disabled struct{ Feature string }

func (e Disabled) Error() string { return e.Feature + " is disabled on this server" }

// Code is the error's extensions.code.
func (e Disabled) Code() string { return strings.ToUpper(e.Feature) + "_DISABLED" }

// CodeIntrospectionDisabled answers __schema and __type when introspection
// is off.
var CodeIntrospectionDisabled = Disabled{"introspection"}.Code()

// HandlerConfig configures NewHandler.
type HandlerConfig struct {
	// Introspection enables __schema and __type queries (and "did you mean"
	// suggestions in errors, which leak the schema just the same).
	Introspection bool
	// Logger receives internal errors and panics; nil logs nowhere.
	Logger *slog.Logger
	// QueryCacheSize is how many parsed and validated documents to keep;
	// 0 means 1000.
	QueryCacheSize int
	// APQCacheSize is how many automatic persisted queries to keep; 0 means
	// 1000.
	APQCacheSize int
	// ComplexityLimit rejects operations costing more (see complexity.go);
	// 0 means DefaultComplexityLimit, negative disables the limit.
	ComplexityLimit int
	// Limits bound a document before gqlgen parses it; the zero value
	// means gqlguard.DefaultLimits.
	Limits gqlguard.Limits
	// OnError, when set, is told the extensions.code of every error in a
	// response (for metrics).
	OnError func(code string)
	// TrustedDocuments, when set, are the only operations that run (by
	// hash or identical text; see trusted.go), and automatic persisted
	// queries are off.
	TrustedDocuments *TrustedDocuments
}

// NewHandler returns the production GraphQL handler: POST application/json
// and GET only (see transport.go; no websockets, no multipart), an LRU of
// parsed documents so a repeated query skips parsing and validation,
// automatic persisted queries, introspection only when enabled, and
// errors presented with stable codes and no internals. It expects the principal and the loaders in the request
// context (see internal/httpapi).
func NewHandler(cfg HandlerConfig) http.Handler {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	resolvers := &Resolver{}
	c := Config{Resolvers: resolvers}
	setComplexity(&c.Complexity)
	srv := handler.New(NewExecutableSchema(c))
	srv.AddTransport(getJSON{})
	srv.AddTransport(postJSON{})
	parsed := lru.New[*ast.QueryDocument](orDefault(cfg.QueryCacheSize, 1000))
	srv.SetQueryCache(parsed)
	if cfg.TrustedDocuments != nil {
		srv.Use(trustedOnly{cfg.TrustedDocuments})
	} else {
		srv.Use(extension.AutomaticPersistedQuery{Cache: orgScoped{lru.New[string](orDefault(cfg.APQCacheSize, 1000))}})
	}
	// After APQ (or trusted documents), so a persisted query is guarded too; before parsing, which
	// is where the expensive part starts.
	limits := cfg.Limits
	if limits == (gqlguard.Limits{}) {
		limits = gqlguard.DefaultLimits
	}
	srv.Use(gqlguard.Extension{Limits: limits, Passed: func(ctx context.Context, query string) bool {
		_, ok := parsed.Get(ctx, query)
		return ok
	}})
	if limits.Tokens > 0 {
		srv.SetParserTokenLimit(limits.Tokens)
	}
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.SetDisableSuggestion(true)
		srv.AroundRootFields(refuseIntrospection)
	}
	if cfg.ComplexityLimit >= 0 {
		srv.Use(&complexityLimit{limit: orDefault(cfg.ComplexityLimit, DefaultComplexityLimit)})
	}
	if fastInteractions {
		srv.AroundFields(resolvers.onePass)
	}
	srv.SetErrorPresenter(presenter(logger))
	srv.AroundResponses(observe(cfg.OnError))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		logInternal(ctx, logger, "graphql: panic", "panic", v, "stack", string(debug.Stack()))
		return interaction.Errorf(interaction.KindInternal, "panic in resolver")
	})
	var h http.Handler = srv
	if fastInteractions {
		h = withPlans(srv)
	}
	return checkRequest(h)
}

// logInternal logs an internal error, whose answer says only "internal
// error", with the request's id, which the client has: the one place this
// package logs one.
func logInternal(ctx context.Context, logger *slog.Logger, msg string, args ...any) {
	logger.ErrorContext(ctx, msg, append([]any{"request_id", reqlog.RequestID(ctx)}, args...)...)
}

// refuseIntrospection answers __schema and __type with Disabled. Left to
// gqlgen, they fail with a plain error ("introspection disabled") that the
// presenter can only take for an internal one.
func refuseIntrospection(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	switch graphql.GetRootFieldContext(ctx).Field.Name {
	case "__schema", "__type":
		graphql.AddError(ctx, Disabled{"introspection"})
		return graphql.Null
	}
	return next(ctx)
}

// observe puts the operation's name and complexity on the request's log
// line and reports error codes.
func observe(onError func(string)) graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		resp := next(ctx)
		if graphql.HasOperationContext(ctx) {
			oc := graphql.GetOperationContext(ctx)
			name := oc.OperationName
			if name == "" && oc.Operation != nil {
				name = oc.Operation.Name // not sent as operationName, but named in the document
			}
			if name != "" {
				reqlog.Add(ctx, slog.String("operation", name))
			}
			if st := extension.GetComplexityStats(ctx); st != nil {
				reqlog.Add(ctx, slog.Int("complexity", st.Complexity))
			}
		}
		if resp != nil && onError != nil {
			for _, e := range resp.Errors {
				code, _ := e.Extensions["code"].(string)
				if code == "" {
					code = "UNKNOWN"
				}
				onError(code)
			}
		}
		return resp
	}
}

// orgScoped keeps each organisation's persisted queries apart. Shared,
// the cache answered whether any organisation had recently sent an exact
// document (one naming a mobile number, say): a hash was
// PersistedQueryNotFound before and ran after. Now a hash one organisation
// registered is unknown to every other. The parsed-document cache needs no
// such care: it is keyed by the document itself, which the caller sent.
type orgScoped struct{ graphql.Cache[string] }

func (c orgScoped) key(ctx context.Context, hash string) string {
	p, _ := interaction.FromContext(ctx)
	return strconv.FormatInt(int64(p.Org.ID), 10) + ":" + hash
}

func (c orgScoped) Get(ctx context.Context, hash string) (string, bool) {
	return c.Cache.Get(ctx, c.key(ctx, hash))
}

func (c orgScoped) Add(ctx context.Context, hash, query string) {
	c.Cache.Add(ctx, c.key(ctx, hash), query)
}

func orDefault(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

// presenter gives every error a stable extensions.code. Domain errors carry
// their kind; internal errors are logged and replaced by a generic message
// so no SQL or Go detail reaches a client.
func presenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var ie *interaction.Error
		var off Disabled
		kind := interaction.KindOf(err)
		switch {
		case errors.As(err, &off):
			logger.InfoContext(ctx, "graphql: "+off.Error(), "code", off.Code(), "path", gerr.Path.String())
			gerr.Message = off.Error()
			setCode(gerr, off.Code())
			return gerr
		case errors.As(err, &ie), kind != interaction.KindInternal:
			// Domain errors, and drivers' errors for a deadline or a
			// client that left (which KindOf recognises).
			if code := CodeOf(kind); code != CodeInternal {
				gerr.Message = interaction.MessageOf(err)
				setCode(gerr, code)
				return gerr
			}
		case gerr.Extensions["code"] != nil:
			// parse, validation and gqlgen's own coded errors stay as they are
			return gerr
		case gerr.Path == nil:
			// an operation-level error from gqlgen (e.g. complexity)
			setCode(gerr, CodeBadUserInput)
			return gerr
		}
		logInternal(ctx, logger, "graphql: internal error", "err", err, "path", gerr.Path.String())
		gerr.Message = "internal error"
		setCode(gerr, CodeInternal)
		return gerr
	}
}

func setCode(e *gqlerror.Error, code string) {
	if e.Extensions == nil {
		e.Extensions = map[string]any{}
	}
	e.Extensions["code"] = code
}
