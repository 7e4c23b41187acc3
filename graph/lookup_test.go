package graph_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestCustomersMatchCustomer: customers(by:) is the batched form of
// customer(), so for the same identifiers it must answer the same
// customers with the same interactions, entry for entry, nulls included.
// The two take different paths (one queued lookup for the list, one
// dataloader load per customer; one batch resolver call for many
// customers or for one), so this is where they would drift apart. The
// graph suite runs on both stores (scripts/test runs it again with
// TOUCHPOINT_TEST_STORE=postgres).
func TestCustomersMatchCustomer(t *testing.T) {
	e := newEnv(t, 30)
	const fields = `id mobile email externalId interactions(limit: 4) { network interactions { type count lastInteractionTime usedStatus
		messages { id type status subject body sentAt deliveredAt } missedCalls { id calledAt } surveys { id name } } }`

	// The identifiers of every demo customer, read once.
	var all struct {
		Customers []struct {
			ID         string `json:"id"`
			Mobile     string `json:"mobile"`
			Email      string `json:"email"`
			ExternalID string `json:"externalId"`
		} `json:"customers"`
	}
	r := e.query(t, `{ customers(by: ID, values: [`+ids(30)+`"565039505","565118794","565200001"]) { id mobile email externalId } }`, nil)
	if len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	if err := json.Unmarshal(r.Data, &all); err != nil {
		t.Fatal(err)
	}
	byKind := map[string][]string{}
	for _, c := range all.Customers {
		byKind["ID"] = append(byKind["ID"], c.ID)
		for kind, v := range map[string]string{"MOBILE": c.Mobile, "EMAIL": c.Email, "EXTERNAL_ID": c.ExternalID} {
			if v != "" {
				byKind[kind] = append(byKind[kind], v)
			}
		}
	}
	for kind, vs := range byKind {
		if len(vs) < 10 {
			t.Fatalf("only %d demo customers have a %s: %v", len(vs), kind, vs)
		}
	}

	tests := []struct {
		kind, arg string   // customers(by: kind) and customer(arg:)
		extra     []string // values beyond the demo customers' own
	}{
		// A value asked twice, one that names no customer, and (for
		// email) one in another case, which both must normalise alike.
		{"ID", "id", []string{"565039505", "999999999"}},
		{"MOBILE", "mobile", []string{"919988221100", "000"}},
		{"EMAIL", "email", []string{"TOM.SAWYER@capillarytech.com", "nobody@example.com"}},
		{"EXTERNAL_ID", "externalId", []string{"EXT-000003", "EXT-NONE"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			values := append(append([]string(nil), byKind[tt.kind]...), tt.extra...)
			quoted := make([]string, len(values))
			for i, v := range values {
				quoted[i] = fmt.Sprintf("%q", v)
			}
			r := e.query(t, `{ customers(by: `+tt.kind+`, values: [`+strings.Join(quoted, ",")+`]) { `+fields+` } }`, nil)
			if len(r.Errors) > 0 {
				t.Fatal(r.Errors)
			}
			var list struct{ Customers []json.RawMessage }
			if err := json.Unmarshal(r.Data, &list); err != nil {
				t.Fatal(err)
			}
			if len(list.Customers) != len(values) {
				t.Fatalf("customers(by: %s) answered %d entries for %d values", tt.kind, len(list.Customers), len(values))
			}
			found := 0
			for i, v := range values {
				one := e.query(t, `{ customer(`+tt.arg+`: `+quoted[i]+`) { `+fields+` } }`, nil)
				if len(one.Errors) > 0 {
					t.Fatalf("customer(%s: %s): %+v", tt.arg, v, one.Errors)
				}
				var single struct{ Customer json.RawMessage }
				if err := json.Unmarshal(one.Data, &single); err != nil {
					t.Fatal(err)
				}
				if got, want := string(list.Customers[i]), string(single.Customer); got != want {
					t.Errorf("%s %q: customers(by:) and customer() differ:\n%s", tt.kind, v, firstDifference(got, want))
				}
				if string(single.Customer) != "null" {
					found++
				}
			}
			// Every demo customer's own value and the repeated one are
			// found; the last value names no one.
			if want := len(values) - 1; found != want {
				t.Errorf("%d of %d values found, want %d", found, len(values), want)
			}
		})
	}
}

// firstDifference shows where got and want part, with some context, so a
// failure does not print two whole customers.
func firstDifference(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-60)
	return fmt.Sprintf("customers(by:) …%.160s\n   customer() …%.160s", got[from:], want[from:])
}
