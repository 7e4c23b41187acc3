package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// findBrowser returns Debian's Chromium (or another Chrome) if installed.
func findBrowser() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts headless Chromium for the test, closed when it ends,
// and returns its context, bounded by timeout. It skips the test when no
// browser is installed, or in -short mode.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	browser := findBrowser()
	if browser == "" {
		t.Skip("no Chromium found (apt-get install chromium); skipping the browser test")
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancel(); cancelBrowser(); cancelAlloc() })
	return ctx
}

// TestPlaygroundInBrowser opens the playground of a real server in headless
// Chromium, types a query, runs it and checks the rendered result; no
// request may leave the loopback server. It saves a screenshot to
// $TOUCHPOINT_SCREENSHOT_DIR (or the test's temp dir).
func TestPlaygroundInBrowser(t *testing.T) {
	ctx := newBrowser(t, 90*time.Second)
	base := startServer(t, filepath.Join(t.TempDir(), "touchpoint.db"))
	server, _ := url.Parse(base)

	var mu sync.Mutex
	var requests []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			requests = append(requests, e.Request.URL)
			mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}

	query := `{ customer(mobile: "917385022695") { id interactions(type: VIBER) { interactions { type count } } } }`
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`.graphiql-query-editor .CodeMirror`),
		// Replace the example query: select all in the editor and type.
		chromedp.Click(`.graphiql-query-editor .CodeMirror-lines`),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(kb.ModifierCtrl)),
		chromedp.KeyEvent("\b"),
		chromedp.SendKeys(`.graphiql-query-editor textarea`, query),
		// GraphiQL re-reads the operation name from the editor after a
		// debounce; run only once it has.
		chromedp.Sleep(time.Second),
		chromedp.Click(`.graphiql-execute-button`),
	)
	var result string
	if err == nil {
		result, err = chromedp.Run(ctx, chromedp.Poll[string](
			`(document.querySelector('.graphiql-response') || {}).innerText.includes('565200001') && document.querySelector('.graphiql-response').innerText`,
			chromedp.WithPollingTimeout(30*time.Second)))
	}
	// The schema documentation explorer works (introspection is on).
	var docs string
	if err == nil {
		err = chromedp.Do(ctx, chromedp.Click(`button[aria-label="Show Documentation Explorer"]`))
	}
	if err == nil {
		docs, err = chromedp.Run(ctx, chromedp.Poll[string](
			`(document.querySelector('.graphiql-doc-explorer') || {}).innerText?.includes('Query') && document.querySelector('.graphiql-doc-explorer').innerText`,
			chromedp.WithPollingTimeout(15*time.Second)))
	}
	shot, _ := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	dir := os.Getenv("TOUCHPOINT_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if len(shot) > 0 {
		path := filepath.Join(dir, "playground.png")
		if werr := os.WriteFile(path, shot, 0o644); werr == nil {
			t.Logf("screenshot: %s", path)
		}
	}
	if err != nil {
		t.Fatalf("browser: %v (result pane: %q)", err, result)
	}
	if !strings.Contains(docs, "Root Types") && !strings.Contains(docs, "query: Query") {
		t.Errorf("documentation explorer shows %q", docs)
	}
	for _, want := range []string{`"id": "565200001"`, `"type": "VIBER"`, `"count": 3`} {
		if !strings.Contains(result, want) {
			t.Errorf("result pane lacks %s:\n%s", want, result)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, r := range requests {
		u, err := url.Parse(r)
		if err != nil || (u.Scheme != "data" && u.Host != server.Host) {
			t.Errorf("request left the server: %s", r)
		}
	}
}
