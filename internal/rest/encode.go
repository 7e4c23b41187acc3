package rest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"

	"github.com/touchpoint/touchpoint/internal/httpapi"
)

// writeJSON writes v compactly, without HTML escaping (the vendor does not
// escape "<", ">" or "&" in subjects).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"errors":[{"code":500,"message":"internal error"}]}`, http.StatusInternalServerError)
		return
	}
	write(w, status, "application/json; charset=utf-8", buf.Bytes())
}

func writeXML(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, "<response><status><success>false</success><code>500</code><message>internal error</message></status></response>", http.StatusInternalServerError)
		return
	}
	buf.WriteByte('\n')
	write(w, status, "application/xml; charset=utf-8", buf.Bytes())
}

func write(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
}

// statusOf is the edge's one mapping from error kind to HTTP status.
var statusOf = httpapi.StatusOf
