package interaction

// Record is one imported record, tagged with the line it came from so a
// store can report a rejection against it. Exactly one of the pointers is
// set.
type Record struct {
	Line       int
	Customer   *Customer
	Message    *Message
	MissedCall *MissedCall
	Survey     *Survey
}

// Rejection says why the record on Line was not stored.
type Rejection struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}
