package interaction

import "math/bits"

// Group is one network's interactions for one customer, as transports show
// them.
type Group struct {
	Network Network
	Items   []Item
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
// interactions of that type: the first of its NetworksOf (twitter's,
// facebook's and foursquare's own types under those networks), capillary
// for the others.
func HomeNetwork(t Type) Network {
	if ns := NetworksOf(t); ns != nil {
		return ns[0]
	}
	return Capillary
}

// slots holds one customer's summaries by network and type, in the orders
// of Networks and Types, with a bit per type of each network saying which
// are held: Assemble runs once per customer of a response (50 times for a
// dashboard's answer), and an array indexed by position costs nothing
// where maps cost allocations, while the bits let it visit only the few
// held of the 68 places.
type slots struct {
	s   [len4][len17]Summary
	set [len4]uint32 // bit t of set[n]: s[n][t] is held
}

const (
	len4  = 4  // len(Networks)
	len17 = 17 // len(Types); at most 32, the bits of a set
)

func (sl *slots) has(n, t int) bool { return sl.set[n]&(1<<t) != 0 }

func (sl *slots) put(n, t int, s Summary) {
	sl.s[n][t] = s
	sl.set[n] |= 1 << t
}

func (sl *slots) drop(n, t int) { sl.set[n] &^= 1 << t }

func networkIndex(n Network) int {
	for i, x := range Networks {
		if x == n {
			return i
		}
	}
	return -1
}

func typeIndex(t Type) int {
	for i, x := range Types {
		if x == t {
			return i
		}
	}
	return -1
}

// Assemble turns the raw summaries a store returned for one customer into
// the groups a transport shows: phone merged with sms (see StoredTypes),
// the layout's types always present, filtered by f, in a stable order.
func Assemble(customerID int64, raw []Summary, f Filter, layout Layout) []Group {
	var shown slots
	for _, s := range raw {
		if s.CustomerID == customerID && s.Count > 0 {
			if n, t := networkIndex(s.Network), typeIndex(s.Type); n >= 0 && t >= 0 {
				shown.put(n, t, s)
			}
		}
	}
	// A phone interaction is the customer's sms plus phone messages.
	sms, phone := typeIndex(SMS), typeIndex(Phone)
	for n := range Networks {
		if !shown.has(n, sms) {
			continue
		}
		ph := shown.s[n][sms]
		ph.Type = Phone
		if shown.has(n, phone) {
			ph = merge(shown.s[n][phone], shown.s[n][sms])
		}
		shown.put(n, phone, ph)
	}
	some := false
	for n, net := range Networks {
		if !f.WantsAll() {
			for m := shown.set[n]; m != 0; m &= m - 1 {
				if t := bits.TrailingZeros32(m); !f.Wants(net, Types[t]) {
					shown.drop(n, t)
				}
			}
		}
		some = some || shown.set[n] != 0
	}
	zero := func(n Network, t Type) {
		i, j := networkIndex(n), typeIndex(t)
		if i >= 0 && j >= 0 && !shown.has(i, j) {
			shown.put(i, j, Summary{CustomerID: customerID, Network: n, Type: t})
		}
	}
	for _, t := range layout {
		if f.Wants(Capillary, t) {
			zero(Capillary, t)
			some = true
		}
	}
	if f.Type != "" && !some {
		n := f.Network
		if n == "" {
			n = HomeNetwork(f.Type)
		}
		zero(n, f.Type)
	}

	// Every group's items are cut from one slice (capped, so a caller's
	// append cannot run into the next group's): a customer's answer is
	// assembled on every request, and growing each group's slice item by
	// item was a tenth of a one-customer request's allocated bytes.
	total := 0
	for n := range Networks {
		total += bits.OnesCount32(shown.set[n])
	}
	all := make([]Item, 0, total)
	var groups []Group
	for n, net := range Networks {
		start := len(all)
		if shown.set[n] != 0 {
			for _, t := range layout {
				if j := typeIndex(t); j >= 0 && shown.has(n, j) {
					all = append(all, Item{Summary: shown.s[n][j]})
					shown.drop(n, j) // shown once, even if the layout repeats it
				}
			}
			for m := shown.set[n]; m != 0; m &= m - 1 {
				all = append(all, Item{Summary: shown.s[n][bits.TrailingZeros32(m)]})
			}
		}
		var items []Item
		if len(all) > start {
			items = all[start:len(all):len(all)]
		}
		if len(items) > 0 || net == f.Network {
			groups = append(groups, Group{Network: net, Items: items})
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
