package httpapi

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/reqlog"
	"github.com/touchpoint/touchpoint/internal/respcache"
)

// The response cache (Deps.Cache) sits between a route's rate limit and
// its handler: every request is authenticated and counted first, hit or
// miss, so a revoked key is refused and a limit holds whatever is cached.
// An answer is kept under the organisation's data version (read from the
// store on every request, so never older than the last commit), the
// caller's view of it (OTP masking after its scopes, the time zone) and the
// normalised request. Only successes are kept: a REST 200, a GraphQL 200
// without errors. The same key gives every such answer its ETag, so
// If-None-Match is answered 304 from the key alone when the answer is
// cached, without running anything.

// requestKey adds the parts of a request its answer depends on beyond
// the principal, or says false when the request is not to be cached.
type requestKey func(r *http.Request, kb *respcache.KeyBuilder) bool

// varyOn is the Vary of a cached route's answers: they belong to one
// key's organisation and come in the format Accept asks for.
const varyOn = "Authorization, Accept"

// cached wraps a route's handler in the response cache and its
// validators; with no cache it is the handler itself, whose own
// validators then stand (the data version is read only for the cache: on
// PostgreSQL it is a statement).
//
// A request whose If-None-Match holds the tag of its question under the
// current version is answered 304 at once, whether its answer is still
// cached or not: the tag was given to a success, and the same question
// under the same version has the same answer. Otherwise the handler
// answers; a success gets the tag (which the REST shims keep, instead of
// hashing their body) and is kept.
func (s *server) cached(route string, key requestKey, next http.Handler) http.Handler {
	if s.d.Cache == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		p, ok := interaction.FromContext(ctx)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		var kb respcache.KeyBuilder
		if !key(r, &kb) {
			next.ServeHTTP(w, r)
			return
		}
		v, err := s.d.Versions.DataVersion(ctx, p.Org.ID)
		if err != nil {
			// Without a version nothing can be trusted or kept; the
			// handler answers, or fails on the store as it would have.
			s.d.Logger.WarnContext(ctx, "data version unavailable; answering uncached", "request_id", RequestID(ctx), "err", err)
			next.ServeHTTP(w, r)
			return
		}
		// The settings read with the version win over those of the
		// credential, which may have been read before a change: the
		// answer, cached or not, is the one the version stands for.
		p.Org.TimeZone, p.Org.MaskOTP = v.TimeZone, v.MaskOTP
		kb.AddString(route)
		kb.AddString(view(p))
		k := kb.Key(int64(p.Org.ID), v.Version)
		if e, ok := s.d.Cache.Get(k); ok {
			reqlog.Add(ctx, slog.String("cache", "hit"))
			serveCached(w, r, e)
			return
		}
		etag := k.ETag()
		inm := r.Header.Values("If-None-Match")
		if len(inm) > 0 && etagMatches(inm, etag) {
			reqlog.Add(ctx, slog.String("cache", "validated"))
			setValidators(w.Header(), etag)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		reqlog.Add(ctx, slog.String("cache", "miss"))
		ctx = interaction.NewContext(ctx, p)
		r = r.WithContext(ctx)
		rec := &recorder{header: http.Header{"Etag": {etag}}} // the shims keep a tag they find set
		inner := r
		if len(inm) > 0 {
			// The handler must produce the answer; whether the client
			// has it was decided here, against the key's tag.
			inner = r.Clone(ctx)
			inner.Header.Del("If-None-Match")
		}
		next.ServeHTTP(rec, inner)
		// The validators are the edge's own (a handler's would not
		// survive a hit), and Vary is added to what the edge has set
		// (CORS's Origin), not replaced.
		for _, h := range []string{"Etag", "Cache-Control", "Vary"} {
			delete(rec.header, h)
		}
		e := &respcache.Entry{Status: rec.status, Header: rec.header, Body: rec.body.Bytes(), ETag: etag}
		if e.Status == 0 {
			e.Status = http.StatusOK
		}
		if !keepable(route, e) {
			rec.replay(w)
			return
		}
		s.d.Cache.Put(k, e)
		serveCached(w, r, e)
	})
}

// view is what of the principal, besides its organisation, changes an
// answer: whether one-time passwords are masked for it (the
// organisation's setting and the key's otp:read) and the time zone times
// are rendered in. The settings come with the version, and move it; the
// key's scopes come from its credential.
func view(p interaction.Principal) string {
	masked := "u"
	if p.Org.MaskOTP && !p.Has(interaction.ScopeOTPRead) {
		masked = "m"
	}
	return masked + "|" + p.Org.TimeZone
}

// keepable says whether an answer may be served again: a success, with no
// GraphQL error (errors depend on deadlines, limits and the server's
// switches as much as on the data).
func keepable(route string, e *respcache.Entry) bool {
	if e.Status != http.StatusOK {
		return false
	}
	if route == "graphql" && bytes.Contains(e.Body, []byte(`"errors":`)) {
		return false
	}
	return true
}

// serveCached writes a kept answer, or 304 when the client holds it. A
// 304 carries the validators and what the edge has set (the request id,
// the rate limit, CORS), not the answer's own representation headers
// (Content-Type and the like; RFC 9110, 15.4.5).
func serveCached(w http.ResponseWriter, r *http.Request, e *respcache.Entry) {
	h := w.Header()
	notModified := etagMatches(r.Header.Values("If-None-Match"), e.ETag)
	if !notModified {
		for k, vs := range e.Header {
			h[k] = vs
		}
	}
	setValidators(h, e.ETag)
	if notModified {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.WriteHeader(e.Status)
	w.Write(e.Body)
}

// setValidators sets an answer's tag and caching rules: revalidated on
// every use, by private caches only; Vary is added to what the edge has
// set (CORS's Origin).
func setValidators(h http.Header, etag string) {
	h.Set("ETag", etag)
	h.Set("Cache-Control", "private, no-cache")
	h.Add("Vary", varyOn)
}

// etagMatches reports whether If-None-Match (its values) lists etag,
// weakly compared (RFC 9110, 13.1.2), or is "*".
func etagMatches(values []string, etag string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == etag || t == "*" {
				return true
			}
		}
	}
	return false
}

// recorder holds a handler's answer until it is known whether to keep it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// replay writes the answer as the handler wrote it.
func (r *recorder) replay(w http.ResponseWriter) {
	h := w.Header()
	for k, vs := range r.header {
		h[k] = vs
	}
	if r.status != 0 {
		w.WriteHeader(r.status)
	}
	w.Write(r.body.Bytes())
}

// restKey: a REST answer depends on the route's parameters (whatever
// their order in the URL) and on Accept (v1.1 picks XML by it).
func restKey(r *http.Request, kb *respcache.KeyBuilder) bool {
	kb.AddString(r.Method)
	kb.AddString(r.URL.Query().Encode())
	addValues(kb, r.Header, "Accept")
	return true
}

// addValues adds a header's values as one part, joined by commas.
func addValues(kb *respcache.KeyBuilder, h http.Header, name string) {
	kb.AddString(strings.Join(h.Values(name), ","))
}

// graphQLKey: a GraphQL answer depends on the document, the operation
// name, the variables and extensions (a persisted query's hash), and on
// the headers the transport reads: Accept (the response's media type),
// Content-Type and Upgrade (which transport, if any, takes the request). A POST is keyed by its body as sent,
// byte for byte, which holds exactly those: a client asks its question
// again with the same bytes, and normalising the JSON (json.Compact) was a
// tenth of a cached answer's CPU. The body is read here (within the edge's
// limit) and handed on from memory, so the transport reads it once more
// without a copy; a read that failed (a body over the limit) fails the
// same way for the transport. A body over maxKeyedBody is not cached: real
// questions are a few KiB, and one near the limit is more likely hostile
// than asked again.
func graphQLKey(r *http.Request, kb *respcache.KeyBuilder) bool {
	switch {
	case r.Method == http.MethodGet:
		kb.AddString(r.Method)
		kb.AddString(r.URL.Query().Encode())
	case r.Method != http.MethodPost || r.Body == nil || r.Body == http.NoBody || r.ContentLength > maxKeyedBody:
		return false
	default:
		body, ok := readKeyedBody(r)
		if !ok {
			return false
		}
		kb.AddString(r.Method)
		kb.Add(body)
	}
	for _, h := range []string{"Accept", "Content-Type", "Upgrade"} {
		addValues(kb, r.Header, h)
	}
	return true
}

// readKeyedBody reads a POST's body for its key and hands it on to the
// transport from memory; a body that could not be read whole, or is over
// maxKeyedBody, is put back as it was and not keyed.
func readKeyedBody(r *http.Request) ([]byte, bool) {
	var body []byte
	var err error
	if r.ContentLength > 0 {
		// Read in one piece: net/http ends the body at its length.
		body = make([]byte, r.ContentLength)
		var n int
		n, err = io.ReadFull(r.Body, body)
		body = body[:n]
	} else {
		body, err = io.ReadAll(io.LimitReader(r.Body, maxKeyedBody+1))
	}
	if err != nil || len(body) > maxKeyedBody {
		// What was read goes back in front of the rest (and of the error,
		// which the body repeats).
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		return nil, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, true
}

// maxKeyedBody is the largest GraphQL body whose answer is cached.
const maxKeyedBody = 32 << 10
