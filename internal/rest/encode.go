package rest

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/cespare/xxhash/v2"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// bodies are the buffers success payloads are appended into, kept from
// one answer to the next: a REST answer is 5-10 KB, and growing a fresh
// buffer to it (4, 8, then 16 KB, each copied) was a third of a REST
// request's allocated bytes. A buffer is back in the pool once the answer
// is written: an http.ResponseWriter keeps nothing of what it is given
// (the response cache's recorder copies).
var bodies = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// maxPooledBody bounds what the pool keeps: a rare large answer (a
// thousand messages) is not held for every later small one.
const maxPooledBody = 256 << 10

// writeAppended writes v's JSON, appended into a pooled buffer.
func writeAppended[T any, P interface {
	*T
	appendJSON([]byte) []byte
}](w http.ResponseWriter, r *http.Request, status int, v *T) {
	bp := bodies.Get().(*[]byte)
	b := P(v).appendJSON((*bp)[:0])
	write(w, r, status, "application/json; charset=utf-8", b)
	if cap(b) <= maxPooledBody {
		*bp = b[:0]
		bodies.Put(bp)
	}
}

// writeJSON writes v compactly, without HTML escaping (the vendor does not
// escape "<", ">" or "&" in subjects).
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"errors":[{"code":500,"message":"internal error"}]}`, http.StatusInternalServerError)
		return
	}
	write(w, r, status, "application/json; charset=utf-8", buf.Bytes())
}

func writeXML(w http.ResponseWriter, r *http.Request, status int, v any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, "<response><status><success>false</success><code>500</code><message>internal error</message></status></response>", http.StatusInternalServerError)
		return
	}
	buf.WriteByte('\n')
	write(w, r, status, "application/xml; charset=utf-8", buf.Bytes())
}

// write sends body. A success carries an ETag and is revalidated on
// every use by a private cache only (the answer belongs to one key's
// organisation); a request whose If-None-Match holds that tag gets 304 with
// no body. The tag is the one already set, when the HTTP edge has set one
// (from the data version, without reading the body), else a hash of the
// body, which changes with any import that changes the answer.
func write(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusOK {
		etag := h.Get("ETag")
		if etag == "" {
			etag = bodyTag(body)
		}
		h.Set("ETag", etag)
		h.Set("Cache-Control", "private, no-cache")
		h.Add("Vary", "Authorization, Accept") // beside what the edge varies on (CORS: Origin)
		if r != nil && matches(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// bodyTag is a body's entity tag: its 64-bit xxHash, in hex. The tag
// only has to change when the answer does, for one caller's question, so
// a digest made against forgery (SHA-256, four times the CPU on a 9 KB
// answer) buys nothing; one collision in 2^64 changes would leave a
// client with its old answer once.
func bodyTag(body []byte) string {
	b := make([]byte, 0, 18)
	b = append(b, '"')
	b = hex.AppendEncode(b, binary.BigEndian.AppendUint64(nil, xxhash.Sum64(body)))
	return string(append(b, '"'))
}

// matches reports whether an If-None-Match header lists etag (or is "*").
func matches(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// statuses is the shims' one mapping from an error kind to the HTTP
// status of their envelopes (see the package documentation); a kind not
// listed is a 500. The HTTP edge raises the request's own failures (401,
// 405, 413, 429, 503) and writes them with WriteV11Error and WriteV2Error,
// so they are decided here too.
var statuses = map[interaction.Kind]int{
	interaction.KindInvalid:          http.StatusBadRequest,
	interaction.KindNotFound:         http.StatusNotFound,
	interaction.KindUnauthorized:     http.StatusUnauthorized,
	interaction.KindForbidden:        http.StatusForbidden,
	interaction.KindRateLimited:      http.StatusTooManyRequests,
	interaction.KindConflict:         http.StatusConflict,
	interaction.KindTooLarge:         http.StatusRequestEntityTooLarge,
	interaction.KindNotAcceptable:    http.StatusNotAcceptable,
	interaction.KindUnsupportedMedia: http.StatusUnsupportedMediaType,
	interaction.KindMethodNotAllowed: http.StatusMethodNotAllowed,
	interaction.KindUnavailable:      http.StatusServiceUnavailable,
	// nginx's "client closed request": never read, and not a server error.
	interaction.KindCanceled: 499,
}

func statusOf(k interaction.Kind) int {
	if s, ok := statuses[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}
