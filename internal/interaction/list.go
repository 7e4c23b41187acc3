package interaction

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// List is a set of filter values (delivery statuses, campaign ids) kept
// as one canonical string: a JSON array, sorted, without repeats. A string
// keeps Filter comparable (a dataloader key, ==), the canonical form makes
// two filters that mean the same equal, and the SQLite store binds the
// text as it is to json_each. "" is no constraint.
type List string

// StringList returns the canonical List of vs; nil or empty is "".
func StringList(vs []string) List {
	if len(vs) == 0 {
		return ""
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	b, _ := json.Marshal(slices.Compact(s)) // strings always marshal
	return List(b)
}

// IntList returns the canonical List of ids; nil or empty is "".
func IntList(ids []int64) List {
	if len(ids) == 0 {
		return ""
	}
	s := slices.Clone(ids)
	slices.SortFunc(s, cmp.Compare)
	s = slices.Compact(s)
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte(']')
	return List(b.String())
}

// Strings returns the values of a List made by StringList.
func (l List) Strings() []string { return values[string](l) }

// Ints returns the values of a List made by IntList.
func (l List) Ints() []int64 { return values[int64](l) }

// values decodes l, a List of Ts made by StringList or IntList.
func values[T any](l List) []T {
	if l == "" {
		return nil
	}
	var out []T
	_ = json.Unmarshal([]byte(l), &out) // canonical: made by StringList or IntList
	return out
}
