package graph

// SetFastMarshalling switches the one-pass marshalling of the interactions
// subtree (see marshal.go) for handlers made afterwards.
func SetFastMarshalling(on bool) { fastInteractions = on }
