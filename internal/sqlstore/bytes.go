package sqlstore

import "github.com/touchpoint/touchpoint/internal/interaction"

// Both stores' read paths hand out a row's text as bytes owned by the
// driver, valid until the next row. These turn the bytes that repeat
// from row to row into strings without allocating for each row.

// NetworkOf maps a stored network name to the domain's constant (the
// compiler does not copy b for a switch on string(b)).
func NetworkOf(b []byte) interaction.Network {
	switch string(b) {
	case "capillary":
		return interaction.Capillary
	case "facebook":
		return interaction.Facebook
	case "twitter":
		return interaction.Twitter
	case "foursquare":
		return interaction.Foursquare
	}
	return interaction.Network(b)
}

// TypeOf maps a stored type name to the domain's constant.
func TypeOf(b []byte) interaction.Type {
	for _, t := range interaction.Types {
		if string(t) == string(b) {
			return t
		}
	}
	return interaction.Type(b)
}

// Interner returns one string for every row that holds the same bytes
// (statuses, senders). The zero value is ready; keep one per result.
type Interner struct {
	m map[string]string
}

// maxInterned bounds an Interner.
const maxInterned = 1 << 12

// Of returns b as a string, shared with earlier calls that held the same
// bytes.
func (in *Interner) Of(b []byte) string {
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if in.m == nil {
		in.m = make(map[string]string, 8)
	}
	if len(in.m) < maxInterned {
		in.m[s] = s
	}
	return s
}
