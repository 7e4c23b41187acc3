package graph

// SetFastMarshalling switches the one-pass marshalling of the interactions
// subtree (see marshal.go) for handlers made afterwards.
func SetFastMarshalling(on bool) { fastInteractions = on }

// CostVars is the text a cost is kept under for the variables v.
func CostVars(v map[string]any) string { return string(appendCostVars(nil, v)) }

// SharedPlans is how many plans are kept across requests.
func SharedPlans() int { return sharedPlans.len() }
