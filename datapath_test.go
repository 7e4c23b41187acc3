package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// TestOneDataPath asks for the same customers through GraphQL, v1.1 and
// v2 and checks the three agree on every count and every message id: they
// read through the same loaders and store, so they must.
func TestOneDataPath(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		base := startServer(t, dsn)
		c := client{t: t, base: base, auth: basicAuth(demoKeyID, demoSecret)}
		for _, id := range []string{"565039505", "565200001", "1000001", "1000002", "1000005", "1000010"} {
			t.Run(id, func(t *testing.T) {
				// type -> "count ids"
				gql, v11, v2 := map[string]string{}, map[string]string{}, map[string]string{}
				key := func(count int, ids []int64) string {
					sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
					return fmt.Sprint(count, ids)
				}

				_, body := c.graphql(`{ customer(id: "` + id + `") { interactions(network: CAPILLARY, limit: 20) { network interactions { type count messages { id } } } } }`)
				var g struct {
					Data struct {
						Customer struct {
							Interactions []struct {
								Interactions []struct {
									Type     string
									Count    int
									Messages []struct{ ID string }
								}
							}
						}
					}
				}
				if err := json.Unmarshal([]byte(body), &g); err != nil {
					t.Fatal(err, body)
				}
				for _, n := range g.Data.Customer.Interactions {
					for _, it := range n.Interactions {
						var ids []int64
						for _, m := range it.Messages {
							var n int64
							fmt.Sscan(m.ID, &n)
							ids = append(ids, n)
						}
						gql[strings.ToLower(it.Type)] = key(it.Count, ids)
					}
				}

				_, body, _ = c.do("GET", "/v1.1/customer/interaction?format=json&network=capillary&limit=20&id="+id, "")
				var r1 struct {
					Response struct {
						Customer struct {
							Interactions struct {
								Network []struct {
									Interaction []struct {
										Type     string
										Count    int
										Messages struct{ Message []struct{ ID int64 } }
									}
								}
							}
						}
					}
				}
				if err := json.Unmarshal([]byte(body), &r1); err != nil {
					t.Fatal(err, body)
				}
				for _, n := range r1.Response.Customer.Interactions.Network {
					for _, it := range n.Interaction {
						var ids []int64
						for _, m := range it.Messages.Message {
							ids = append(ids, m.ID)
						}
						v11[it.Type] = key(it.Count, ids)
					}
				}

				_, body, _ = c.do("GET", "/v2/customers/interaction?identifierName=id&limit=20&identifierValue="+id, "")
				var r2 struct {
					Interaction []struct {
						Name        string
						Count       int
						MessageList []struct{ ID int64 }
					}
				}
				if err := json.Unmarshal([]byte(body), &r2); err != nil {
					t.Fatal(err, body)
				}
				for _, it := range r2.Interaction {
					var ids []int64
					for _, m := range it.MessageList {
						ids = append(ids, m.ID)
					}
					v2[it.Name] = key(it.Count, ids)
				}

				if len(gql) == 0 || len(v11) == 0 || len(v2) == 0 {
					t.Fatalf("empty answers: %v %v %v", gql, v11, v2)
				}
				// Every type two transports both show must agree (v1.1's layout
				// lists fewer types than v2's; GraphQL shows all of them).
				for typ, want := range gql {
					if got, ok := v11[typ]; ok && got != want {
						t.Errorf("%s: v1.1 %s, GraphQL %s", typ, got, want)
					}
					if got, ok := v2[typ]; ok && got != want {
						t.Errorf("%s: v2 %s, GraphQL %s", typ, got, want)
					}
				}
				for typ := range v2 {
					if _, ok := gql[typ]; !ok {
						t.Errorf("v2 shows %s, GraphQL does not", typ)
					}
				}
			})
		}
	})
}
