// Package scalar holds the GraphQL scalars Touchpoint binds to Go types.
package scalar

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/touchpoint/touchpoint/internal/interaction"
)

// MarshalInt64ID writes a 64-bit id as a GraphQL ID (a JSON string):
// GraphQL's Int is 32-bit and message ids such as 1743467374476 overflow it,
// and JSON numbers above 2^53 lose precision in JavaScript clients.
func MarshalInt64ID(id int64) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		io.WriteString(w, `"`+strconv.FormatInt(id, 10)+`"`)
	})
}

// UnmarshalInt64ID reads an ID given as a string or an integer. Anything
// else, a JSON number with a fraction or an exponent (1.5, 1e3) or beyond
// 64 bits among them, is the caller's mistake (BAD_USER_INPUT), never an
// internal error.
func UnmarshalInt64ID(v any) (int64, error) {
	switch v := v.(type) {
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, interaction.Errorf(interaction.KindInvalid, "id %q is not a 64-bit integer", v)
		}
		return n, nil
	case json.Number:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return 0, interaction.Errorf(interaction.KindInvalid, "id %s is not a 64-bit integer", v)
		}
		return n, nil
	case int64:
		return v, nil
	case int:
		return int64(v), nil
	}
	return 0, interaction.Errorf(interaction.KindInvalid, "id must be a string or an integer, got %T", v)
}

// MarshalTime writes t as RFC 3339 in the requesting organisation's time
// zone, so every time in a response reads the same way the REST shims
// render it.
func MarshalTime(t time.Time) graphql.ContextMarshaler {
	return graphql.ContextWriterFunc(func(ctx context.Context, w io.Writer) error {
		loc := time.UTC
		if p, ok := interaction.FromContext(ctx); ok {
			loc = p.Org.Location()
		}
		_, err := io.WriteString(w, strconv.Quote(t.In(loc).Format(time.RFC3339)))
		return err
	})
}

// UnmarshalTime reads an RFC 3339 time. (gqlgen pairs a context marshaler
// with a context unmarshaler, hence the unused ctx.)
func UnmarshalTime(_ context.Context, v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, interaction.Errorf(interaction.KindInvalid, "time must be an RFC 3339 string, got %T", v)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, interaction.Errorf(interaction.KindInvalid, "time %q is not RFC 3339 (for example 2025-04-14T14:23:20Z)", s)
	}
	return t, nil
}
