package rest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"

	"github.com/touchpoint/touchpoint/internal/httpapi"
)

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

// write sends body. A success carries an ETag (a hash of the body, so it
// changes with any import that changes the answer) and is revalidated on
// every use by a private cache only (the answer belongs to one key's
// organisation); a request whose If-None-Match holds that tag gets 304 with
// no body.
func write(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusOK {
		sum := sha256.Sum256(body)
		etag := `"` + hex.EncodeToString(sum[:16]) + `"`
		h.Set("ETag", etag)
		h.Set("Cache-Control", "private, no-cache")
		h.Set("Vary", "Authorization, Accept")
		if r != nil && httpapi.ETagMatches(r.Header.Values("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// statusOf is the edge's one mapping from error kind to HTTP status.
var statusOf = httpapi.StatusOf
