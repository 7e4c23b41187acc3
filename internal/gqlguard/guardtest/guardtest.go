// Package guardtest builds hostile GraphQL documents for the tests of the
// guard and of the servers behind it.
package guardtest

import (
	"fmt"
	"strings"
)

// FanOut is the classic exponential fragment document: each level spreads
// the next ten times, so n levels expand to 10^n fields.
func FanOut(n int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := range n {
		fmt.Fprintf(&b, "fragment F%d on Query { %s }\n", i, strings.Repeat(fmt.Sprintf("...F%d ", i+1), 10))
	}
	fmt.Fprintf(&b, "fragment F%d on Query { __typename }\n", n)
	return b.String()
}
