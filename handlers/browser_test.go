package handlers_test

// The shared harness for UI tests in a real headless Chromium (chromedp):
// newBrowser starts one browser per test, login signs in through /login,
// screenshot saves PNGs into test-artifacts/, and any JavaScript exception,
// console error or CSP violation fails the test.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds one test's whole browser session.
const browserTimeout = 3 * time.Minute

// reportCSPViolations turns every CSP violation into a console error, which
// the harness records (Chrome also logs them; this catches them even where
// it does not). Scripts added over DevTools are not subject to the page's CSP.
const reportCSPViolations = `document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    (e.sourceFile ? " at " + e.sourceFile + ":" + e.lineNumber : ""));
});`

// browserState is what the page reported during a test.
type browserState struct {
	mu       sync.Mutex
	problems []string // exceptions, console errors, CSP violations
	allowed  []string // substrings of expected console errors
	dialogs  []string // messages of the dialogs accepted
	done     bool
}

type browserStateKey struct{}

func stateOf(ctx context.Context) *browserState {
	s, _ := ctx.Value(browserStateKey{}).(*browserState)
	if s == nil {
		panic("not a context from newBrowser")
	}
	return s
}

func (s *browserState) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.allowed {
		if strings.Contains(msg, a) {
			return
		}
	}
	s.problems = append(s.problems, msg)
}

// newBrowser starts a headless Chromium for the test and returns its
// context for chromedp.Run. JavaScript dialogs (data-confirm) are accepted;
// dialogs(ctx) lists their messages. When the test ends, any exception,
// console error or CSP violation the pages reported fails it, and a failed
// test leaves test-artifacts/failure-<test>.png behind.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("UI tests need Chromium at %s (apt-get install -y chromium): %v", chromiumPath, err)
		}
		t.Skipf("no Chromium at %s (apt-get install -y chromium); skipping the UI test", chromiumPath)
	}
	dir, err := os.MkdirTemp("", "switchboard-chromium-")
	require.NoError(t, err)
	// Registered first, so it runs last: after the browser has exited. Its
	// helper processes may still flush a file just after, hence the retries.
	t.Cleanup(func() {
		for range 20 {
			_ = os.RemoveAll(dir)
			time.Sleep(100 * time.Millisecond)
			if _, err := os.Stat(dir); os.IsNotExist(err) {
				return
			}
		}
	})

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("font-render-hinting", "none"),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)

	st := &browserState{}
	logf := func(format string, args ...any) {
		st.mu.Lock()
		defer st.mu.Unlock()
		if !st.done {
			t.Logf("chromedp: "+format, args...)
		}
	}
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf))
	t.Cleanup(func() {
		// Close the browser gracefully; the allocator then waits for it.
		closeCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = chromedp.Cancel(closeCtx)
		cancelCtx()
	})
	ctx, cancelTimeout := context.WithTimeout(ctx, browserTimeout)
	t.Cleanup(cancelTimeout)
	ctx = context.WithValue(ctx, browserStateKey{}, st)

	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil && d.Exception.Description != "" {
				msg = d.Exception.Description
			}
			st.problem("JavaScript exception: %s (%s:%d)", msg, d.URL, d.LineNumber+1)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeAssert {
				st.problem("console.%s: %s", ev.Type, consoleArgs(ev.Args))
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.LevelError {
				st.problem("%s error: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		case *page.EventJavascriptDialogOpening:
			st.mu.Lock()
			st.dialogs = append(st.dialogs, ev.Message)
			st.mu.Unlock()
			// Answer from another goroutine: listeners must not block.
			go func() { _ = chromedp.Run(ctx, page.HandleJavaScriptDialog(true)) }()
		}
	})
	err = chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(reportCSPViolations).Do(ctx)
		return err
	}))
	require.NoError(t, err, "start Chromium")

	t.Cleanup(func() {
		if t.Failed() {
			screenshot(t, ctx, "failure-"+strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())+".png")
		}
		st.mu.Lock()
		problems := st.problems
		st.done = true
		st.mu.Unlock()
		for _, p := range problems {
			t.Errorf("the browser reported %s", p)
		}
	})
	return ctx
}

func consoleArgs(args []*runtime.RemoteObject) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case len(a.Value) > 0:
			parts = append(parts, strings.Trim(string(a.Value), `"`))
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

// allowConsoleError stops console errors containing substr from failing the
// test: for pages that are expected to answer 4xx, say.
func allowConsoleError(ctx context.Context, substr string) {
	s := stateOf(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allowed = append(s.allowed, substr)
}

// dialogs returns the messages of the dialogs accepted so far.
func dialogs(ctx context.Context) []string {
	s := stateOf(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.dialogs...)
}

// login signs in through the /login form and waits for the signed-in nav.
func login(t *testing.T, ctx context.Context, baseURL, email, password string) {
	t.Helper()
	err := chromedp.Run(ctx,
		chromedp.Navigate(baseURL+"/login"),
		chromedp.WaitVisible(`input[name="email"]`),
		chromedp.SendKeys(`input[name="email"]`, email),
		chromedp.SendKeys(`input[name="password"]`, password),
		chromedp.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="nav-user"]`),
	)
	require.NoError(t, err, "log in as %s", email)
}

// artifactsDir is test-artifacts/ at the repository root (gitignored).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the test's directory")
		dir = parent
	}
	out := filepath.Join(dir, "test-artifacts")
	require.NoError(t, os.MkdirAll(out, 0o755))
	return out
}

// screenshot saves the whole page as test-artifacts/<name> (PNG; ".png" is
// added when name has no extension) and returns the file's path. It scrolls
// to the top first, so the sticky nav is drawn where it belongs.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	if filepath.Ext(name) == "" {
		name += ".png"
	}
	var buf []byte
	err := chromedp.Run(ctx,
		chromedp.Evaluate(`window.scrollTo(0, 0)`, nil),
		chromedp.FullScreenshot(&buf, 100),
	)
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	path := filepath.Join(artifactsDir(t), name)
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	return path
}
