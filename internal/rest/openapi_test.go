package rest_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/touchpoint/touchpoint/internal/rest"
)

// The OpenAPI document, loaded and checked once for the whole suite.
var spec = sync.OnceValues(func() (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(rest.OpenAPIDocument())
	if err != nil {
		return nil, err
	}
	if !doc.IsOpenAPI31OrLater() {
		return nil, fmt.Errorf("openapi %s, want 3.1", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("invalid document: %w", err)
	}
	openapi3filter.RegisterBodyDecoder("application/xml", xmlBodyDecoder)
	return doc, nil
})

// validateResponse fails t unless rec is an answer the document describes
// for req: a documented status, its headers, content type and body. A
// request with another method than GET is checked against GET's answers
// (the 405 the document lists there).
func validateResponse(t testing.TB, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	doc, err := spec()
	if err != nil {
		t.Fatal(err)
	}
	item := doc.Paths.Find(req.URL.Path)
	if item == nil || item.Get == nil {
		t.Fatalf("%s is not in the OpenAPI document", req.URL.Path)
	}
	route := &routers.Route{Spec: doc, Path: req.URL.Path, PathItem: item, Method: http.MethodGet, Operation: item.Get}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route, Options: opts},
		Status:                 rec.Code, Header: rec.Header(), Options: opts,
	}
	in.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s: %d answer does not match the OpenAPI document: %v\nbody: %.2000s", req.Method, req.URL, rec.Code, err, rec.Body)
	}
}

// xmlBodyDecoder reads an XML body into the JSON values its schema
// describes, so that the schema can check it: elements by property name
// (an array's items by their xml name, unwrapped), integers and booleans
// parsed from text. An element the schema does not know is kept, as text,
// for additionalProperties to catch; so is text that does not parse.
func xmlBodyDecoder(body io.Reader, _ http.Header, schema *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	var root xmlNode
	if err := xml.NewDecoder(body).Decode(&root); err != nil {
		return nil, err
	}
	s := schema.Value
	if s.XML != nil && s.XML.Name != "" && root.XMLName.Local != s.XML.Name {
		return nil, fmt.Errorf("root element <%s>, want <%s>", root.XMLName.Local, s.XML.Name)
	}
	return fromXML(root, s), nil
}

type xmlNode struct {
	XMLName xml.Name
	Nodes   []xmlNode `xml:",any"`
	Text    string    `xml:",chardata"`
}

func fromXML(n xmlNode, s *openapi3.Schema) any {
	switch {
	case s.Type.Is("object"):
		out := map[string]any{}
		for name, ref := range s.Properties {
			p := ref.Value
			elem := name
			if p.Type.Is("array") && p.Items.Value.XML != nil && p.Items.Value.XML.Name != "" {
				elem = p.Items.Value.XML.Name
			}
			var kids []xmlNode
			for _, c := range n.Nodes {
				if c.XMLName.Local == elem {
					kids = append(kids, c)
				}
			}
			switch {
			case p.Type.Is("array"):
				list := []any{} // XML cannot tell an empty list from none
				for _, k := range kids {
					list = append(list, fromXML(k, p.Items.Value))
				}
				out[name] = list
			case len(kids) == 1:
				out[name] = fromXML(kids[0], p)
			case len(kids) > 1:
				out[name] = fmt.Sprintf("%d <%s> elements", len(kids), elem)
			}
		}
		for _, c := range n.Nodes {
			if _, ok := out[c.XMLName.Local]; !ok && s.Properties[c.XMLName.Local] == nil {
				out[c.XMLName.Local] = c.Text
			}
		}
		return out
	case s.Type.Is("integer"):
		if v, err := strconv.ParseInt(n.Text, 10, 64); err == nil {
			return v
		}
	case s.Type.Is("boolean"):
		if v, err := strconv.ParseBool(n.Text); err == nil && (n.Text == "true" || n.Text == "false") {
			return v
		}
	}
	return n.Text
}

// TestOpenAPIDocument: /openapi.json serves the embedded document, open to
// all, and the document names every code the shims can answer.
func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t, 0)
	rec := e.get(e.edge, "/openapi.json", "Authorization", "Basic bad")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") || rec.Body.String() != string(rest.OpenAPIDocument()) {
		t.Fatalf("/openapi.json: %d %v", rec.Code, rec.Header())
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q: %v", doc.OpenAPI, err)
	}
	text := rec.Body.String()
	for _, code := range []string{"1000", "1012", "1101", "1102", "1103", "1104", "1105", "1106", "1107", "1201", "1202",
		`"304"`, `"400"`, `"401"`, `"403"`, `"404"`, `"405"`, `"413"`, `"429"`, `"500"`, `"503"`,
		"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After", "application/xml", `"scheme": "basic"`} {
		if !strings.Contains(text, code) {
			t.Errorf("the document does not mention %s", code)
		}
	}
}
