package graph

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// CodeNotTrusted refuses, on a server with trusted documents, any operation
// that is not one of them: a document whose text is not listed, a hash
// that is not, a hash sent with other text, and automatic persisted-query
// registration. It is neither of the codes Apollo's persisted-query link
// acts on (PERSISTED_QUERY_NOT_FOUND makes it resend the text,
// PERSISTED_QUERY_NOT_SUPPORTED makes it stop hashing), so a client is
// told once and does not retry. Like a document that fails validation it
// is a request error: 200 with application/json (the GraphQL-over-HTTP
// rule), 400 with application/graphql-response+json.
const CodeNotTrusted = "PERSISTED_QUERY_NOT_TRUSTED"

func init() { errcode.RegisterErrorType(CodeNotTrusted, errcode.KindProtocol) }

// apolloManifestFormat is the "format" of an Apollo persisted-query
// manifest (@apollo/generate-persisted-query-manifest).
const apolloManifestFormat = "apollo-persisted-query-manifest"

// TrustedDocuments are the only operations a production server runs: the
// manifest a client build generates, read once at start. Documents are
// known by their SHA-256 (hex) and by their exact text.
type TrustedDocuments struct {
	byHash map[string]string
	byText map[string]bool
}

// Len is the number of documents; 0 for none (nil).
func (d *TrustedDocuments) Len() int {
	if d == nil {
		return 0
	}
	return len(d.byHash)
}

// ParseTrustedDocuments reads a manifest in either of the formats clients
// generate: a JSON object of SHA-256 hex hashes to document text (GraphQL
// Code Generator's persisted documents, and the GraphQL-over-HTTP
// persisted-documents proposal, whose "sha256:" prefix is accepted), or an
// Apollo persisted-query manifest, {"format":
// "apollo-persisted-query-manifest", "version": 1, "operations": [{"id",
// "body", "name", "type"}]}. Every hash must be the SHA-256 of its text: a
// manifest made with another hash, or edited by hand, is an error, since
// its hashes would never match what clients send.
func ParseTrustedDocuments(data []byte) (*TrustedDocuments, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("not a JSON object of SHA-256 hashes to documents, nor an Apollo persisted-query manifest: %v", err)
	}
	d := &TrustedDocuments{byHash: map[string]string{}, byText: map[string]bool{}}
	if _, ok := top["format"]; ok {
		var m struct {
			Format     string `json:"format"`
			Version    int    `json:"version"`
			Operations []struct {
				ID   string `json:"id"`
				Body string `json:"body"`
				Name string `json:"name"`
			} `json:"operations"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("an Apollo persisted-query manifest: %v", err)
		}
		if m.Format != apolloManifestFormat || m.Version != 1 {
			return nil, fmt.Errorf("format %q version %d: want %q version 1, or an object of SHA-256 hashes to documents", m.Format, m.Version, apolloManifestFormat)
		}
		for i, op := range m.Operations {
			if err := d.add(op.ID, op.Body); err != nil {
				return nil, fmt.Errorf("operation %d (%q): %w", i, op.Name, err)
			}
		}
	} else {
		keys := make([]string, 0, len(top))
		for k := range top {
			keys = append(keys, k)
		}
		slices.Sort(keys) // the same manifest reports the same error
		for _, k := range keys {
			var text string
			if err := json.Unmarshal(top[k], &text); err != nil {
				return nil, fmt.Errorf("entry %q: its document is not a JSON string", k)
			}
			if err := d.add(k, text); err != nil {
				return nil, fmt.Errorf("entry %q: %w", k, err)
			}
		}
	}
	if d.Len() == 0 {
		return nil, fmt.Errorf("lists no documents, so nothing could run")
	}
	return d, nil
}

func (d *TrustedDocuments) add(id, text string) error {
	h := normalHash(id)
	if len(h) != sha256.Size*2 || strings.Trim(h, hex) != "" {
		return fmt.Errorf("the id is not a SHA-256 hash (64 hex digits); generate the manifest with sha256")
	}
	if text == "" {
		return fmt.Errorf("the document is empty")
	}
	if sum := sha256Hex(text); sum != h {
		return fmt.Errorf("the SHA-256 of the document is %s, not its id", sum)
	}
	d.byHash[h] = text
	d.byText[text] = true
	return nil
}

// normalHash is a hash as the manifest and clients may write it (upper
// case hex, "sha256:" in front) in the form it is looked up by.
func normalHash(s string) string {
	return strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "sha256:")
}

func sha256Hex(s string) string {
	return fmt.Sprintf("%x", sha256.Sum256([]byte(s)))
}

// trustedOnly puts the document in place of a hash and refuses anything
// that is not a trusted document. It stands where the automatic
// persisted-query extension stands otherwise: nothing can be registered.
type trustedOnly struct{ docs *TrustedDocuments }

var _ interface {
	graphql.OperationParameterMutator
	graphql.HandlerExtension
} = trustedOnly{}

func (trustedOnly) ExtensionName() string                   { return "TrustedDocuments" }
func (trustedOnly) Validate(graphql.ExecutableSchema) error { return nil }

func (t trustedOnly) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	hash, _ := ctx.Value(documentIDKey{}).(string)
	if ext, ok := p.Extensions["persistedQuery"]; ok {
		m, _ := ext.(map[string]any)
		sha, _ := m["sha256Hash"].(string)
		if sha == "" {
			return notTrusted("the persistedQuery extension has no sha256Hash")
		}
		if hash != "" && normalHash(hash) != normalHash(sha) {
			return notTrusted("documentId and the persistedQuery extension name different documents")
		}
		hash = sha
	}
	if hash != "" {
		text, ok := t.docs.byHash[normalHash(hash)]
		switch {
		case !ok:
			return notTrusted("no trusted document has this hash; this server runs only the documents it was deployed with")
		case p.Query != "" && p.Query != text:
			return notTrusted("the query sent is not the trusted document of this hash")
		}
		p.Query = text
		return nil
	}
	if p.Query != "" && !t.docs.byText[p.Query] {
		return notTrusted("this server runs only trusted documents; this one is not among them (send a listed document, or its documentId)")
	}
	return nil // no query at all: gqlgen says so
}

func notTrusted(msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": CodeNotTrusted}}
}

type documentIDKey struct{}

// withDocumentID puts a request's documentId, when it has one, into its
// context for trustedOnly: the transports read it as they decode the
// request.
func withDocumentID(r *http.Request, id string) *http.Request {
	if id == "" {
		return r
	}
	return r.WithContext(context.WithValue(r.Context(), documentIDKey{}, id))
}
