//go:build tools

package graph

// gqlgen is run with go run from the module graph; this keeps it there.
import _ "github.com/99designs/gqlgen"
