package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/errcode"

	"github.com/touchpoint/touchpoint/graph"
)

// TestREADMEListsEveryErrorCode: every extensions.code the GraphQL
// endpoint can answer is in the README's table. The codes are read off the
// sources that set them (string literals shaped like a code), so a new one
// cannot be added without the README hearing of it; gqlgen's own and the
// computed ones are named here.
func TestREADMEListsEveryErrorCode(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{
		errcode.ParseFailed:             true,
		errcode.ValidationFailed:        true,
		"PERSISTED_QUERY_NOT_FOUND":     true, // gqlgen's APQ extension
		graph.CodeIntrospectionDisabled: true,
	}
	// Enum values in the schema have the same shape; they are not codes.
	var schema strings.Builder
	sdl, _ := filepath.Glob("schema/*.graphqls")
	for _, f := range sdl {
		b, _ := os.ReadFile(f)
		schema.Write(b)
	}
	literal := regexp.MustCompile(`"([A-Z]+(?:_[A-Z]+)+)"`)
	for _, dir := range []string{"graph", "internal/httpapi", "internal/gqlguard"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, "generated.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
				if !regexp.MustCompile(`\b` + m[1] + `\b`).MatchString(schema.String()) {
					codes[m[1]] = true
				}
			}
		}
	}
	if len(codes) < 15 {
		t.Fatalf("found only %d codes: the search has gone wrong", len(codes))
	}
	for code := range codes {
		if !strings.Contains(string(readme), "| `"+code+"`") && !strings.Contains(string(readme), ", `"+code+"`") &&
			!strings.Contains(string(readme), "| `"+code+"`,") {
			t.Errorf("README's table of error codes lacks %s", code)
		}
	}
}
