package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// cacheScenarios measure the response cache, against the server that has
// it on: each is one of the engine's scenarios (by name) asked so that its
// answers are cached, with the same B0 and B1 as the engine's, so the two
// rows compare directly. They need nothing but the engine's scenarios, so
// they move with them.
func cacheScenarios(engine []scenario, customers int) []scenario {
	byName := func(prefix string) scenario {
		for _, sc := range engine {
			if strings.HasPrefix(sc.name, prefix) {
				return sc
			}
		}
		panic("bench: no scenario " + prefix)
	}
	dash, v2 := byName("GraphQL dashboard"), byName("REST v2, random customers")

	// The dashboard refreshing: the same question every time.
	repeated := func(b string, _, _ int) *http.Request { return dash.request(b, 0, 0) }
	var etag string // of the repeated dashboard's answer, read by warm
	return []scenario{
		{name: "GraphQL dashboard repeated (cache)", request: repeated, direct: dash.direct, cached: true},
		{name: "REST v2, random customers, warm (cache)", request: v2.request, direct: v2.direct, cached: true,
			warm: func(ctx context.Context, client *http.Client, base string) error {
				// Every customer once: the worker-0 sequence of v2's picks
				// covers them all (its stride, 104,729, is prime).
				return askAll(ctx, client, customers, func(n int) *http.Request { return v2.request(base, 0, n) })
			}},
		{name: "GraphQL dashboard repeated, 304 (cache)", status: http.StatusNotModified, direct: dash.direct, cached: true,
			request: func(b string, w, n int) *http.Request {
				r := repeated(b, w, n)
				r.Header.Set("If-None-Match", etag)
				return r
			},
			warm: func(ctx context.Context, client *http.Client, base string) error {
				resp, err := client.Do(repeated(base, 0, 0).WithContext(ctx))
				if err != nil {
					return err
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if etag = resp.Header.Get("ETag"); resp.StatusCode != 200 || etag == "" {
					return fmt.Errorf("the dashboard answered %d with ETag %q", resp.StatusCode, etag)
				}
				return nil
			}},
	}
}

// askAll sends request(0..n-1) from a few workers and checks each is 200.
func askAll(ctx context.Context, client *http.Client, n int, request func(int) *http.Request) error {
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				resp, err := client.Do(request(i).WithContext(ctx))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("request %d: %s", i, resp.Status)
					}
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}
