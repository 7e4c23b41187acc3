package interaction

import "slices"

// Group is one network's interactions for one customer, as transports show
// them.
type Group struct {
	Network Network
	Items   []Summary
}

// Layout is the list of capillary interaction types a response always
// shows, with a zero count when the customer has none, in the order it
// shows them. Other types appear only when they have interactions (or were
// asked for by a filter), after the layout's, in the order of Types.
type Layout []Type

// The vendor's layouts, taken from its documented samples. v1.1 shows eight
// types (no viber); v2 shows nine, in another order.
var (
	LayoutV11 = Layout{SurveyType, MissedCallType, WhatsApp, Zalo, Line, Phone, SMS, Email}
	LayoutV2  = Layout{SurveyType, Line, Viber, Email, WhatsApp, MissedCallType, Phone, SMS, Zalo}
)

// HomeNetwork is the network a type is shown under when the customer has no
// interactions of that type: twitter's, facebook's and foursquare's own
// types under those networks, everything else under capillary.
func HomeNetwork(t Type) Network {
	switch t {
	case Mention, Retweet, Tweet:
		return Twitter
	case Like, Comment:
		return Facebook
	case Checkin:
		return Foursquare
	}
	return Capillary
}

type groupKey struct {
	n Network
	t Type
}

// Assemble turns the raw summaries a store returned for one customer into
// the groups a transport shows: phone merged with sms (see StoredTypes),
// the layout's types always present, filtered by f, in a stable order.
func Assemble(customerID int64, raw []Summary, f Filter, layout Layout) []Group {
	byKey := make(map[groupKey]Summary)
	for _, s := range raw {
		if s.CustomerID != customerID || s.Count == 0 {
			continue
		}
		byKey[groupKey{s.Network, s.Type}] = s
	}
	// A phone interaction is the customer's sms plus phone messages.
	for _, n := range Networks {
		sms, hasSMS := byKey[groupKey{n, SMS}]
		ph, hasPhone := byKey[groupKey{n, Phone}]
		if !hasSMS {
			continue
		}
		if hasPhone {
			ph = merge(ph, sms)
		} else {
			ph = sms
			ph.Type = Phone
		}
		byKey[groupKey{n, Phone}] = ph
	}

	want := func(n Network, t Type) bool {
		return (f.Network == "" || f.Network == n) && (f.Type == "" || f.Type == t)
	}
	shown := make(map[groupKey]Summary)
	for k, s := range byKey {
		if want(k.n, k.t) {
			shown[k] = s
		}
	}
	zero := func(n Network, t Type) {
		k := groupKey{n, t}
		if _, ok := shown[k]; !ok {
			shown[k] = Summary{CustomerID: customerID, Network: n, Type: t}
		}
	}
	for _, t := range layout {
		if want(Capillary, t) {
			zero(Capillary, t)
		}
	}
	if f.Type != "" && len(shown) == 0 {
		n := f.Network
		if n == "" {
			n = HomeNetwork(f.Type)
		}
		zero(n, f.Type)
	}

	var groups []Group
	for _, n := range Networks {
		var items []Summary
		for _, t := range layout {
			if s, ok := shown[groupKey{n, t}]; ok {
				items = append(items, s)
			}
		}
		for _, t := range Types {
			if slices.Contains(layout, t) {
				continue
			}
			if s, ok := shown[groupKey{n, t}]; ok {
				items = append(items, s)
			}
		}
		if len(items) > 0 || n == f.Network {
			groups = append(groups, Group{Network: n, Items: items})
		}
	}
	return groups
}

func merge(a, b Summary) Summary {
	a.Count += b.Count
	if b.Last != nil && (a.Last == nil || b.Last.After(*a.Last)) {
		a.Last = b.Last
	}
	return a
}
