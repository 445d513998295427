package runs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"

	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/web/graph"
	"github.com/switchboard/switchboard/web/internal/htmltest"
	"github.com/switchboard/switchboard/web/layout"
	"github.com/switchboard/switchboard/web/runs"
)

var (
	now     = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	started = now.Add(-90 * time.Second)
	ended   = now.Add(-88 * time.Second)
	page    = layout.Page{Title: "Runs", User: &layout.User{Email: "ada@example.com"}, CSRF: "tok", Active: layout.NavRuns}
)

func listView() runs.ListView {
	return runs.ListView{
		Page:   page,
		Flows:  []runs.FlowOption{{ID: "f1", Name: "Signup"}, {ID: "f2", Name: "<script>x</script>"}},
		Filter: runs.Filter{Flow: "f1", Status: "failed", Q: `"ada"`},
		Rows: []runs.Row{
			{ID: "0190aaaa-0000-7000-8000-00000000abcd", FlowID: "f1", FlowName: "Signup", FlowVersion: 3, Status: "failed", Source: "webhook",
				CreatedAt: started, StartedAt: &started, FinishedAt: &ended, StepsTotal: 3, StepsDone: 1, FailedSteps: []string{"notify"}},
			{ID: "0190aaaa-0000-7000-8000-00000000beef", FlowID: "f1", FlowName: "Signup", FlowVersion: 3, Status: "succeeded", Source: "replay",
				CreatedAt: started, StartedAt: &started, FinishedAt: &ended, StepsTotal: 3, StepsDone: 3},
		},
		Cursor:  "c1",
		Next:    "c2",
		Failed:  []runs.FailedFlow{{FlowID: "f1", FlowName: "Signup", Count: 3}},
		CanEdit: true,
		CSRF:    "tok",
		Now:     now,
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	out, doc := htmltest.Render(t, runs.List(listView()))
	for _, s := range []string{
		`data-testid="run-row"`, `data-run-id="0190aaaa-0000-7000-8000-00000000abcd"`, `href="/runs/0190aaaa-0000-7000-8000-00000000abcd"`,
		">0000abcd<", "Failed at", "<code>notify</code>", "1 of 3 steps", "2.0 s", "v3 · Webhook", "v3 · Replay",
		`data-confirm="Retry all 3 failed runs of “Signup”?`, `data-testid="retry-failed"`, `name="flow_id" value="f1"`,
		`href="/runs?cursor=c2&amp;flow=f1&amp;q=%22ada%22&amp;status=failed"`, `data-testid="runs-newest"`,
		`<option value="f1" selected>Signup</option>`, `<option value="failed" selected>Failed</option>`,
		`value="&#34;ada&#34;"`, "&lt;script&gt;x&lt;/script&gt;",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("list lacks %s", s)
		}
	}
	if strings.Contains(out, "<script>x") {
		t.Error("a flow name is not escaped")
	}
	body := htmltest.ByTestID(doc, "runs-body")
	if _, ok := htmltest.Attr(body, "hx-get"); ok {
		t.Error("finished rows poll")
	}
	if bad := htmltest.CSPViolations(out, doc); len(bad) > 0 {
		t.Errorf("CSP violations: %v", bad)
	}
}

func TestListLiveRowsAndViewer(t *testing.T) {
	t.Parallel()
	v := listView()
	v.Rows[1].Status, v.Rows[1].FinishedAt = "running", nil
	v.CanEdit = false
	// The partial (a <tbody> first) is checked as text: an HTML parser
	// drops a <tbody> outside a table.
	out, _ := htmltest.Render(t, runs.Rows(v))
	if !strings.HasPrefix(out, `<tbody id="runs-body"`) || !strings.Contains(out, `<nav id="runs-pager" class="pager" aria-label="Pages" data-testid="runs-pager" hx-swap-oob="true">`) {
		t.Errorf("the partial is not the body and an out-of-band pager: %s", out)
	}
	full, doc := htmltest.Render(t, runs.List(v))
	body := htmltest.ByTestID(doc, "runs-body")
	get, _ := htmltest.Attr(body, "hx-get")
	if get != "/runs/rows?cursor=c1&flow=f1&q=%22ada%22&status=failed" {
		t.Errorf("the body polls %q", get)
	}
	if trig, _ := htmltest.Attr(body, "hx-trigger"); trig != "every 2s" {
		t.Errorf("hx-trigger %q", trig)
	}
	if pager := htmltest.ByTestID(doc, "runs-pager"); pager == nil {
		t.Error("no pager")
	} else if _, oob := htmltest.Attr(pager, "hx-swap-oob"); oob {
		t.Error("the full page's pager is out of band")
	}
	if !strings.Contains(out, "1 min 30 s") {
		t.Error("a running row shows how long it has been going")
	}
	if strings.Contains(full, `data-testid="retry-failed"`) {
		t.Error("a viewer is offered Retry all failed")
	}
}

func TestListEmpty(t *testing.T) {
	t.Parallel()
	out, _ := htmltest.Render(t, runs.List(runs.ListView{Page: page, Now: now}))
	if !strings.Contains(out, "No runs yet") || strings.Contains(out, `data-testid="runs-table"`) {
		t.Error("no empty state")
	}
	out, _ = htmltest.Render(t, runs.List(runs.ListView{Page: page, Now: now, Filter: runs.Filter{Q: "x"},
		Errors: map[string]string{"from": "“From” is not a date and time."}}))
	for _, s := range []string{"No runs match", `data-testid="error-from"`, `aria-invalid="true"`} {
		if !strings.Contains(out, s) {
			t.Errorf("filtered empty state lacks %s", s)
		}
	}
}

func detailView(t *testing.T) runs.DetailView {
	t.Helper()
	def, err := flows.Decode([]byte(`{"trigger":{"type":"webhook"},"steps":[
		{"id":"lookup","action":"http.request"},{"id":"notify","name":"Tell <b>Slack</b>","action":"slack.post_message"},
		{"id":"after","action":"email.send"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{"lookup": "succeeded", "notify": "failed", "after": "pending"}
	l := graph.New(graph.FromDefinition(def, graph.Overlay{Status: status, TriggerStatus: "succeeded",
		Href: func(id string) string { return "#step-" + id }}), graph.Options{IDPrefix: "run-graph"})
	dur := 420
	errMsg := `slack: channel_not_found {"ok":false,"error":"channel_not_found"}`
	return runs.DetailView{
		Page: page,
		Run: runs.Run{ID: "0190aaaa-0000-7000-8000-00000000abcd", FlowID: "f1", FlowName: "Signup", FlowVersion: 2, CurrentVersion: 3,
			Status: "failed", Source: "webhook", CreatedAt: started, StartedAt: &started, FinishedAt: &ended},
		Graph: &l,
		Steps: []runs.Step{
			{ID: "lookup", Action: "http.request", Status: "succeeded", Attempts: 1, Input: runs.PrettyJSON([]byte(`{"url":"https://x"}`)),
				Output: runs.PrettyJSON([]byte(`{"status":200}`)), DurationMS: &dur,
				History: []runs.Attempt{{N: 1, Status: "succeeded", StartedAt: started, DurationMS: 420}}},
			{ID: "notify", Name: "Tell <b>Slack</b>", Action: "slack.post_message", Status: "failed", Attempts: 2, Error: errMsg,
				Input: runs.PrettyJSON([]byte(`{"channel":"#signups","text":"<img src=x>"}`)),
				History: []runs.Attempt{{N: 1, Status: "retrying", Error: "timeout", StartedAt: started, DurationMS: 30000},
					{N: 2, Status: "failed", Error: errMsg, StartedAt: started, DurationMS: 80}}},
			{ID: "after", Action: "email.send", Status: "pending"},
		},
		Payload: runs.PrettyJSON([]byte(`{"email":"ada@example.com"}`)),
		CanEdit: true,
		CSRF:    "tok",
		Now:     now,
	}
}

func TestDetail(t *testing.T) {
	t.Parallel()
	out, doc := htmltest.Render(t, runs.Detail(detailView(t)))
	for _, s := range []string{
		`id="run-live"`, `data-testid="run-status" data-status="failed"`, `data-testid="step-lookup"`, `data-testid="step-notify"`,
		`data-testid="step-after"`, `data-testid="retry-notify"`, ">Retry</button>", `action="/runs/0190aaaa-0000-7000-8000-00000000abcd/steps/notify/retry"`,
		`hx-post="/runs/0190aaaa-0000-7000-8000-00000000abcd/steps/notify/retry"`, `hx-target="#run-live"`,
		`data-confirm="Retry step “Tell &lt;b&gt;Slack&lt;/b&gt;”?`, "Tell &lt;b&gt;Slack&lt;/b&gt;", "&lt;img src=x&gt;",
		"slack: channel_not_found\n{\n  &#34;ok&#34;: false,", `data-copy="#step-notify-input"`, `id="step-notify-input"`,
		`data-testid="replay"`, `name="payload"`, "&#34;email&#34;: &#34;ada@example.com&#34;", "current version (v3)",
		`class="node state-failed"`, `href="#step-notify"`, "Waits for the steps it needs.", "2 attempts", "Took 2.0 s",
		`hx-preserve="true"`, `id="step-body-notify-failed-2"`,
	} {
		if !strings.Contains(out, s) {
			t.Errorf("run page lacks %s", s)
		}
	}
	for _, s := range []string{`data-testid="retry-lookup"`, `data-testid="cancel"`, "<b>Slack", "<img src=x>"} {
		if strings.Contains(out, s) {
			t.Errorf("run page has %s", s)
		}
	}
	if _, ok := htmltest.Attr(htmltest.ByTestID(doc, "run-live"), "hx-get"); ok {
		t.Error("a finished run polls")
	}
	if bad := htmltest.CSPViolations(out, doc); len(bad) > 0 {
		t.Errorf("CSP violations: %v", bad)
	}
}

func TestDetailLiveAndViewer(t *testing.T) {
	t.Parallel()
	v := detailView(t)
	v.Run.Status, v.Run.FinishedAt = "running", nil
	v.Steps[1].Status = "running"
	out, doc := htmltest.Render(t, runs.Live(v))
	live := htmltest.ByTestID(doc, "run-live")
	if get, _ := htmltest.Attr(live, "hx-get"); get != "/runs/0190aaaa-0000-7000-8000-00000000abcd/live" {
		t.Errorf("live region polls %q", get)
	}
	for _, s := range []string{`data-testid="cancel"`, "Running for 1 min 30 s"} {
		if !strings.Contains(out, s) {
			t.Errorf("running run lacks %s", s)
		}
	}
	if strings.Contains(out, "<html") {
		t.Error("the live partial is a whole page")
	}

	v = detailView(t)
	v.CanEdit = false
	for name, c := range map[string]templ.Component{"detail": runs.Detail(v)} {
		out, _ := htmltest.Render(t, c)
		for _, s := range []string{`data-testid="retry-`, `data-testid="replay"`, `data-testid="cancel"`, `action="/runs/`} {
			if strings.Contains(out, s) {
				t.Errorf("%s for a viewer has %s", name, s)
			}
		}
		if !strings.Contains(out, `id="field-payload"`) {
			t.Errorf("%s for a viewer hides the payload", name)
		}
	}
}

func TestFormatting(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		340 * time.Millisecond: "340 ms", 1200 * time.Millisecond: "1.2 s", 42 * time.Second: "42 s",
		125 * time.Second: "2 min 5 s", 3*time.Hour + 2*time.Minute: "3 h 2 min", -time.Second: "0 ms",
	} {
		if got := runs.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
	for in, want := range map[string]string{
		`plain words`:                "plain words",
		`http 500: {"error":"down"}`: "http 500:\n{\n  \"error\": \"down\"\n}",
		`["a"]`:                      "[\n  \"a\"\n]",
		`broken {json`:               "broken {json",
	} {
		if got := runs.PrettyError(in); got != want {
			t.Errorf("PrettyError(%q) = %q, want %q", in, got, want)
		}
	}
	if runs.PrettyJSON(nil) != "" || runs.PrettyJSON([]byte("null")) != "" {
		t.Error("no value should render as nothing")
	}
	if got := runs.ShortID("0190aaaa-0000-7000-8000-00000000abcd"); got != "0000abcd" {
		t.Errorf("ShortID = %q", got)
	}
}
