// Package bench is the harness behind `touchpoint bench`: it generates a
// deterministic data set through the real importer, starts the real server
// in a process of its own (the command's to make, see Env.Server), drives
// each scenario with a closed-loop load (internal/loadgen) against two
// ceilings measured in the same run (B0: the HTTP stack writing
// precomputed bytes; B1: the same data through interaction.Read, JSON
// encoded), and reports throughput, latency, the server's CPU, allocations
// and SQL statements per request, as a table and as report.md with charts.
package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/touchpoint/touchpoint/internal/auth"
	"github.com/touchpoint/touchpoint/internal/demo"
	"github.com/touchpoint/touchpoint/internal/importer"
	"github.com/touchpoint/touchpoint/internal/interaction"
	"github.com/touchpoint/touchpoint/internal/loadgen"
)

// Options are a run's settings: the bench command's flags.
type Options struct {
	Customers           int           // generated customers in the data set
	MessagesPerCustomer int           // their mean messages (skewed)
	Concurrency         int           // connections of the closed-loop load
	Warmup              time.Duration // before each measurement
	Duration            time.Duration // measured, per scenario
	Out                 string        // directory for report.md and the charts; "" writes none
	CPUProfile          string        // when set, the server's CPU profile of each scenario goes to CPUProfile-N.pprof
	Only                string        // when set, only the scenarios whose name contains it run
}

// Store is what a run needs of the store it fills and reads for B1.
type Store interface {
	interaction.Reader
	interaction.Admin
	importer.Sink
	Close() error
}

// Env is what a run takes from the command that starts it.
type Env struct {
	// Open opens (creating and migrating) the store in the file at path.
	Open func(ctx context.Context, path string) (Store, error)
	// Server makes the command that runs `touchpoint args...`: the server
	// under test, in a process of its own (a test binary is not the
	// touchpoint binary, so the command's tests provide another).
	Server         func(args []string) (*exec.Cmd, error)
	Stdout, Stderr io.Writer
}

// scenario is one kind of request the benchmark drives.
type scenario struct {
	name string
	// request builds the n-th request of a worker against base.
	request func(base string, worker, n int) *http.Request
	// direct answers the same request straight from the store, JSON-encoded
	// with no GraphQL, REST shaping or loaders: ceiling B1.
	direct http.HandlerFunc
	// cached runs the scenario against the server with its response cache
	// on; the others measure the engine, with the cache off.
	cached bool
	// status is the answer's expected status; 0 means 200.
	status int
	// warm, when set, runs before the scenario's own warm-up.
	warm func(ctx context.Context, client *http.Client, base string) error
}

// measurement is one scenario's measurements.
type measurement struct {
	name                    string
	res, b0, b1             loadgen.Result
	allocs, stmts, bodySize float64
	cpu                     time.Duration // the server's CPU per request; 0 where unknown
	hitRatio                float64       // share of the measured requests served from the cache; -1 with it off
}

// Run runs the benchmark: it prints the table to env.Stdout, its progress
// to env.Stderr, and writes the report's files to o.Out.
func Run(ctx context.Context, o Options, env Env) error {
	logf := func(format string, a ...any) { fmt.Fprintf(env.Stderr, "bench: "+format+"\n", a...) }

	dir, err := os.MkdirTemp("", "touchpoint-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := env.Open(ctx, filepath.Join(dir, "bench.db"))
	if err != nil {
		return err
	}
	defer db.Close()

	// The data set, through the real importer.
	org, err := db.EnsureOrg(ctx, "bench")
	if err != nil {
		return err
	}
	var data bytes.Buffer
	if err := demo.Write(&data, demo.Options{Customers: o.Customers, MessagesPerCustomer: o.MessagesPerCustomer}); err != nil {
		return err
	}
	rep, err := importer.Import(ctx, bytes.NewReader(data.Bytes()), db, org.ID, importer.Options{})
	if err != nil {
		return err
	}
	importRate := float64(rep.Accepted) / rep.Elapsed.Seconds()
	logf("imported %d customers and %d messages in %v (%.0f records/s)", rep.Customers, rep.Messages, rep.Elapsed.Round(time.Millisecond), importRate)
	key, secret, err := auth.CreateKey(ctx, db, "bench", auth.KeySpec{}, time.Now())
	if err != nil {
		return err
	}

	// The real server on loopback, in its own process, with a limit no
	// benchmark reaches: one with the response cache off, which the
	// engine's scenarios measure, and one with it on for the cache's.
	engine, err := startServer(ctx, env.Server, filepath.Join(dir, "bench.db"), o.CPUProfile != "", false)
	if err != nil {
		return err
	}
	defer engine.stop()
	cached, err := startServer(ctx, env.Server, filepath.Join(dir, "bench.db"), o.CPUProfile != "", true)
	if err != nil {
		return err
	}
	defer cached.stop()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency * 2, MaxConnsPerHost: o.Concurrency * 2}}
	authz := "Basic " + basicToken(key, secret)
	scenarios := scenarios(db, org.ID, o.Customers, authz)
	scenarios = append(scenarios, cacheScenarios(scenarios, o.Customers)...)

	var rows []measurement
	for _, sc := range scenarios {
		if !strings.Contains(sc.name, o.Only) {
			continue
		}
		logf("scenario %s", sc.name)
		srv := engine
		if sc.cached {
			srv = cached
		}
		base := srv.base
		if sc.warm != nil {
			if err := sc.warm(ctx, client, base); err != nil {
				return fmt.Errorf("scenario %s: warming: %w", sc.name, err)
			}
		}
		// One request to size the response for B0.
		resp, err := client.Do(sc.request(base, 0, 0))
		if err != nil {
			return err
		}
		sample, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		status := cmp.Or(sc.status, http.StatusOK)
		if resp.StatusCode != status || bytes.Contains(sample, []byte(`"errors":[{`)) {
			return fmt.Errorf("scenario %s: %d %s", sc.name, resp.StatusCode, sample)
		}
		row := measurement{name: sc.name, bodySize: float64(len(sample))}

		next := func(w, n int) *http.Request { return sc.request(base, w, n) }
		err = func() error {
			// One client a target, each keeping its connections from one
			// turn to the next (see measure): the turns measure serving,
			// not connection set-up.
			tpc, b0c, b1c := loadgen.NewClient(o.Concurrency), loadgen.NewClient(o.Concurrency), loadgen.NewClient(o.Concurrency)
			defer tpc.Close()
			defer b0c.Close()
			defer b1c.Close()
			tpc.Run(ctx, 0, o.Warmup, next) // warm-up, not measured

			// B0: the same HTTP stack writing precomputed bytes of the
			// same size, with the same status, in a process of its own. B1:
			// the same data straight from the store, JSON-encoded.
			b0, err := startCeiling(ctx, env.Server, len(sample), status)
			if err != nil {
				return err
			}
			defer b0.stop()
			b1, stop1, err := listen(sc.direct)
			if err != nil {
				return err
			}
			defer stop1()
			return row.measure(ctx, o, srv, func(d time.Duration) loadgen.Result {
				return tpc.Run(ctx, 0, d, next)
			}, func(d time.Duration) loadgen.Result {
				return b0c.Run(ctx, 0, d, func(w, n int) *http.Request { return sc.request(b0.base, w, n) })
			}, func(d time.Duration) loadgen.Result {
				return b1c.Run(ctx, 0, d, func(w, n int) *http.Request { return sc.request(b1, w, n) })
			}, len(rows)+1, logf)
		}()
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	peakRSS := float64(ru.Maxrss) // KiB on Linux

	report := formatReport(o, rows, importRate, rep, peakRSS)
	fmt.Fprint(env.Stdout, report)
	if o.Out != "" {
		if err := writeFiles(o.Out, report, rows); err != nil {
			return err
		}
		logf("wrote %s/report.md, throughput.svg and latency.svg", o.Out)
	}
	return nil
}

func basicToken(key, secret string) string {
	return strings.TrimPrefix(basicHeader(key, secret), "Basic ")
}

func basicHeader(user, pass string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

// listen serves h on a fresh loopback port.
func listen(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// mobileOf is the generated customer i's mobile (see internal/demo).
func mobileOf(i int) string { return fmt.Sprintf("9198%08d", i) }

// scenarios are the requests a run drives, each with its B1 ceiling.
func scenarios(db Store, org interaction.OrgID, customers int, authz string) []scenario {
	pick := func(w, n int) int { return (w*7919 + n*104729) % customers }
	get := func(url string) *http.Request {
		r, _ := http.NewRequest("GET", url, nil)
		r.Header.Set("Authorization", authz)
		return r
	}
	post := func(url, query string, vars map[string]any) *http.Request {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		r, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		r.Header.Set("Authorization", authz)
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	ctx := context.Background()
	// direct reads one customer by mobile and its page of 20 messages per
	// group, and writes the raw records as JSON.
	directOne := func(w http.ResponseWriter, mobile string) {
		cs, err := db.CustomersByIdentifier(ctx, org, interaction.ByMobile, []string{mobile})
		if err != nil || len(cs) == 0 {
			http.Error(w, "not found", 404)
			return
		}
		writeDirect(w, db, org, []int64{cs[0].ID}, cs, 20)
	}
	const one = `query One($m: String!) { customer(mobile: $m) { id email interactions(limit: 1) { network interactions { type count } } } }`
	const dash = `query Dash($ids: [String!]!) { customers(by: ID, values: $ids) { id interactions(limit: 20) { network interactions { type count lastInteractionTime messages { id subject status sentAt } } } } }`
	// The dashboard question ../shared/peers/sidebyside.sh asks PostGraphile.
	const emails = `query Emails($ids: [String!]!) { customers(by: ID, values: $ids) { id mobile interactions(type: EMAIL, limit: 20) { interactions { messages { id type status sentAt } } } } }`
	ids := func(w, n int) []string {
		out := make([]string, 50)
		for i := range out {
			out[i] = fmt.Sprint(1_000_001 + (pick(w, n)+i*131)%customers)
		}
		return out
	}
	// byIDs is B1 for a GraphQL question over customers by id.
	byIDs := func(req interaction.Request) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var p struct{ Variables struct{ IDs []string } }
			json.NewDecoder(r.Body).Decode(&p)
			cs, err := db.CustomersByIdentifier(ctx, org, interaction.ByID, p.Variables.IDs)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			ids := make([]int64, len(cs))
			for i, c := range cs {
				ids[i] = c.ID
			}
			writeDirectRequest(w, db, org, ids, cs, req)
		}
	}
	return []scenario{
		{name: "REST v1.1, one customer",
			request: func(b string, w, n int) *http.Request {
				return get(b + "/v1.1/customer/interaction?format=json&limit=20&mobile=" + mobileOf(pick(w, n)))
			},
			direct: func(w http.ResponseWriter, r *http.Request) { directOne(w, r.URL.Query().Get("mobile")) }},
		{name: "REST v2, random customers",
			request: func(b string, w, n int) *http.Request {
				return get(b + "/v2/customers/interaction?identifierName=mobile&limit=20&identifierValue=" + mobileOf(pick(w, n)))
			},
			direct: func(w http.ResponseWriter, r *http.Request) { directOne(w, r.URL.Query().Get("identifierValue")) }},
		{name: "GraphQL one customer, few fields",
			request: func(b string, w, n int) *http.Request {
				return post(b+"/graphql", one, map[string]any{"m": mobileOf(pick(w, n))})
			},
			direct: func(w http.ResponseWriter, r *http.Request) {
				var p struct{ Variables struct{ M string } }
				json.NewDecoder(r.Body).Decode(&p)
				cs, err := db.CustomersByIdentifier(ctx, org, interaction.ByMobile, []string{p.Variables.M})
				if err != nil || len(cs) == 0 {
					http.Error(w, "not found", 404)
					return
				}
				writeDirect(w, db, org, []int64{cs[0].ID}, cs, 0)
			}},
		{name: "GraphQL one customer, cache miss",
			request: func(b string, w, n int) *http.Request {
				// A comment makes every document new to the query cache.
				return post(b+"/graphql", fmt.Sprintf("# %d-%d\n%s", w, n, one), map[string]any{"m": mobileOf(pick(w, n))})
			},
			direct: func(w http.ResponseWriter, r *http.Request) {
				var p struct{ Variables struct{ M string } }
				json.NewDecoder(r.Body).Decode(&p)
				cs, _ := db.CustomersByIdentifier(ctx, org, interaction.ByMobile, []string{p.Variables.M})
				ids := make([]int64, len(cs))
				for i, c := range cs {
					ids[i] = c.ID
				}
				writeDirect(w, db, org, ids, cs, 0)
			}},
		{name: "GraphQL dashboard: 50 customers x newest 20 emails",
			request: func(b string, w, n int) *http.Request {
				return post(b+"/graphql", emails, map[string]any{"ids": ids(w, n)})
			},
			direct: byIDs(interaction.Request{Filter: interaction.Filter{Type: interaction.Email},
				Page: interaction.Page{Limit: 20}, Layout: interaction.LayoutV2, Lists: interaction.ListMessages,
				Fields: interaction.FieldStatus})},
		{name: "GraphQL 50 customers x 20 messages of every group",
			request: func(b string, w, n int) *http.Request {
				return post(b+"/graphql", dash, map[string]any{"ids": ids(w, n)})
			},
			direct: byIDs(interaction.Request{Page: interaction.Page{Limit: 20}, Layout: interaction.LayoutV2,
				Lists: interaction.AllLists, Fields: interaction.AllMessageFields})},
	}
}

// writeDirect is ceiling B1: the customers' interactions (and, when
// limit > 0, every group's page of messages) read through the shared read
// path, interaction.Read, and JSON-encoded as they come.
func writeDirect(w http.ResponseWriter, db Store, org interaction.OrgID, ids []int64, cs []interaction.Customer, limit int) {
	writeDirectRequest(w, db, org, ids, cs, interaction.Request{Page: interaction.Page{Limit: limit}, Layout: interaction.LayoutV2,
		Lists: interaction.AllLists, Fields: interaction.AllMessageFields})
}

func writeDirectRequest(w http.ResponseWriter, db Store, org interaction.OrgID, ids []int64, cs []interaction.Customer, req interaction.Request) {
	groups, err := interaction.Read(context.Background(), db, org, ids, req)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"customers": cs, "interactions": groups})
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*a/b)
}

// formatReport is the run's table with what it ran on.
func formatReport(o Options, rows []measurement, importRate float64, rep importer.Report, peakRSS float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Touchpoint benchmark: %d customers, %d messages; %d connections, %v measured after %v warm-up; %d CPUs, %s\n\n",
		rep.Customers, rep.Messages, o.Concurrency, o.Duration, o.Warmup, runtime.NumCPU(), runtime.Version())
	fmt.Fprintln(&b, "| scenario | req/s | p50 ms | p90 ms | p99 ms | errors | server CPU ms/req | allocs/req | SQL/req | bytes | B0 req/s | vs B0 | B1 req/s | vs B1 | cache hits |")
	fmt.Fprintln(&b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/1e6) }
	for _, r := range rows {
		cpu := "-"
		if r.cpu > 0 {
			cpu = fmt.Sprintf("%.2f", float64(r.cpu)/1e6)
		}
		hits := "off"
		if r.hitRatio >= 0 {
			hits = fmt.Sprintf("%.1f%%", 100*r.hitRatio)
		}
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %s | %d | %s | %.0f | %.1f | %.0f | %.0f | %s | %.0f | %s | %s |\n",
			r.name, r.res.RPS(), ms(r.res.Percentile(50)), ms(r.res.Percentile(90)), ms(r.res.Percentile(99)), r.res.Errors,
			cpu, r.allocs, r.stmts, r.bodySize, r.b0.RPS(), ratio(r.res.RPS(), r.b0.RPS()), r.b1.RPS(), ratio(r.res.RPS(), r.b1.RPS()), hits)
	}
	fmt.Fprintf(&b, "\nImport: %.0f records/s (%d messages). Peak RSS: %.0f MiB.\n", importRate, rep.Messages, peakRSS/1024)
	fmt.Fprintln(&b, "B0: the same HTTP stack writing precomputed bytes of the same size (and status). B1: the same data read straight from the store and JSON-encoded, no GraphQL.")
	fmt.Fprintln(&b, "Scenarios marked (cache) run against a server with the response cache on; the others against one with --cache=false. Cache hits: the share of the measured requests answered from the cache.")
	fmt.Fprintln(&b, "The server runs in a process of its own: its CPU per request is read from /proc, its allocations and SQL statements from its /metrics.")
	return b.String()
}

// writeFiles writes report.md, throughput.svg and latency.svg into dir.
func writeFiles(dir, report string, rows []measurement) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	md := "# Touchpoint benchmark\n\n" + report +
		"\n![throughput](throughput.svg)\n\n![latency](latency.svg)\n"
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(md), 0o644); err != nil {
		return err
	}
	var tp, lat []loadgen.Bar
	for _, r := range rows {
		tp = append(tp, loadgen.Bar{Label: r.name, Values: []float64{r.res.RPS(), r.b1.RPS(), r.b0.RPS()}})
		lat = append(lat, loadgen.Bar{Label: r.name, Values: []float64{
			float64(r.res.Percentile(50)) / 1e3, float64(r.res.Percentile(90)) / 1e3, float64(r.res.Percentile(99)) / 1e3}})
	}
	for name, chart := range map[string]func(io.Writer) error{
		"throughput.svg": func(w io.Writer) error {
			return loadgen.WriteSVG(w, "Throughput (requests/s)", []string{"Touchpoint", "B1: store + JSON", "B0: fixed bytes"}, "req/s", tp)
		},
		"latency.svg": func(w io.Writer) error {
			return loadgen.WriteSVG(w, "Latency (µs)", []string{"p50", "p90", "p99"}, "µs", lat)
		},
	} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := chart(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// slices is how many turns the server and its two ceilings take in a
// scenario's measured time, alternately: the machine's speed drifts
// within seconds (other tenants, the load generator's own work), and
// measured one after the other the three would see different machines.
const slices = 4

// measure fills m with the server's and the ceilings' results, each
// driven by its run for slices turns of o.Duration/slices, alternately;
// the server's CPU, allocations, statements and cache hits are read
// around its own turns only. With o.CPUProfile, the server is profiled
// over the whole alternation (it is idle during the ceilings' turns) into
// the scenario's n-th file.
func (m *measurement) measure(ctx context.Context, o Options, srv *server, tp, b0, b1 func(time.Duration) loadgen.Result, n int, logf func(string, ...any)) error {
	profiled := make(chan error, 1)
	if o.CPUProfile != "" {
		path := fmt.Sprintf("%s-%d.pprof", o.CPUProfile, n)
		// Three runs a turn, and a little for the turns' seams.
		go func() { profiled <- srv.profile(3*o.Duration+time.Second, path) }()
		logf("profiling the server into %s", path)
	}
	b0(o.Warmup / 2) // warm-ups, not measured
	b1(o.Warmup / 2)
	turn := o.Duration / slices
	var cpu time.Duration
	var delta counters
	cpuOK := true
	for range slices {
		c0, err := srv.counters()
		if err != nil {
			return err
		}
		cpu0, ok0 := srv.cpu()
		m.res.Add(tp(turn))
		cpu1, ok1 := srv.cpu()
		c1, err := srv.counters()
		if err != nil {
			return err
		}
		cpu += cpu1 - cpu0
		cpuOK = cpuOK && ok0 && ok1
		delta.add(c0, c1)
		m.b0.Add(b0(turn))
		m.b1.Add(b1(turn))
	}
	m.hitRatio = -1
	if delta.hits+delta.misses > 0 {
		m.hitRatio = delta.hits / (delta.hits + delta.misses)
	}
	if n := m.res.Requests; n > 0 {
		m.allocs = delta.mallocs / float64(n)
		m.stmts = delta.stmts / float64(n)
		if cpuOK {
			m.cpu = cpu / time.Duration(n)
		}
	}
	if o.CPUProfile != "" {
		return <-profiled
	}
	return nil
}
