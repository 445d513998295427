package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/store"
)

var testPollRE = regexp.MustCompile(`hx-get="(/flows/[^"]+/steps/[^"]+/test/([0-9a-f-]{36}))"`)

// testStep clicks "Test step" with the form v and polls the pending result
// until it is there; it returns the result and the test run's id.
func (u *editorUser) testStep(t *testing.T, flowID uuid.UUID, step string, v url.Values) (string, uuid.UUID) {
	t.Helper()
	resp, body := u.hx(t, "/flows/"+flowID.String()+"/steps/"+step+"/test", v)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, `data-state="pending"`)
	require.Contains(t, body, "Testing…")
	m := testPollRE.FindStringSubmatch(body)
	require.NotNil(t, m, "the pending result polls: %s", body)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, body := u.hxGet(t, m[1])
		if resp.StatusCode == http.StatusOK {
			return body, uuid.MustParse(m[2])
		}
		require.Equal(t, http.StatusNoContent, resp.StatusCode, body)
		require.True(t, time.Now().Before(deadline), "the test run did not finish")
		time.Sleep(50 * time.Millisecond)
	}
}

func TestEditorTestStepRunsThroughTheJobQueue(t *testing.T) {
	t.Parallel()
	b := setupEngine(t)
	ctx := context.Background()
	u := editorLogin(t, b.bundle, b.member, "ada@example.com")
	b.target.setHandle(func(path string, n int, body map[string]any) (int, any) {
		if path == "/fail" {
			return http.StatusUnauthorized, map[string]any{"error": "bad token"}
		}
		return http.StatusOK, map[string]any{"id": "obj-" + strings.TrimPrefix(path, "/"), "echo": body}
	})
	id := u.newFlow(t, "Tested", "blank")
	base := "/flows/" + id.String()
	resp, body := u.hx(t, base+"/trigger", url.Values{"type": {"webhook"}, "sample": {`{"user": {"email": "ada@example.com", "plan": "free"}}`}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	u.hx(t, base+"/steps", url.Values{"action": {"http.request"}, "after": {"$trigger"}})
	u.hx(t, base+"/steps", url.Values{"action": {"http.request"}, "after": {"http"}})

	// A step that fails: the error is shown, the test run failed after
	// exactly one attempt (no retries), and the notes say what was missing.
	result, runID := u.testStep(t, id, "http_2", url.Values{
		"id": {"http_2"}, "in.method": {"POST"}, "in.url": {b.target.URL + "/fail"}, "if": {"trigger.user.plan == 'pro'"},
		"in.body": {`{"email": "{{ trigger.user.email }}", "from": "{{ steps.http.body.id }}"}`}, "needs": {"http"},
	})
	require.Contains(t, result, `data-state="failed"`)
	require.Contains(t, result, "Test failed")
	require.Regexp(t, `data-testid="test-error">[^<]*401`, result)
	require.Contains(t, result, `&#34;email&#34;: &#34;ada@example.com&#34;`, "the rendered input")
	require.Contains(t, result, "No test output yet for http")
	require.Contains(t, result, "Its condition is false for this sample")
	require.Contains(t, result, `href="/runs/`+runID.String()+`"`)
	run, err := store.GetRun(ctx, b.pool, b.member.WorkspaceID, runID)
	require.NoError(t, err)
	require.True(t, run.IsTest)
	require.Equal(t, "failed", run.Status)
	require.NotNil(t, run.Definition)
	attempts, err := store.RunAttempts(ctx, b.pool, runID)
	require.NoError(t, err)
	require.Len(t, attempts, 1, "a test is not retried")
	require.Len(t, b.target.calls("/fail"), 1)
	ev, err := store.GetEvent(ctx, b.pool, run.EventID)
	require.NoError(t, err)
	require.Equal(t, "test", ev.Source)
	require.Nil(t, readListen(t, b.bundle, id).sample["steps"], "a failed test keeps no output")

	// Succeeding steps: the output is shown and becomes the sample for the
	// data picker of later steps, which the next test uses.
	result, _ = u.testStep(t, id, "http", url.Values{"id": {"http"}, "in.method": {"POST"}, "in.url": {b.target.URL + "/ok"}})
	require.Contains(t, result, `data-state="succeeded"`)
	require.Contains(t, result, `&#34;id&#34;: &#34;obj-ok&#34;`)
	require.NotContains(t, result, "No test output yet")
	result, runID = u.testStep(t, id, "http_2", url.Values{
		"id": {"http_2"}, "in.method": {"POST"}, "in.url": {b.target.URL + "/second"}, "needs": {"http"},
		"in.body": {`{"from": "{{ steps.http.body.id }}"}`},
	})
	require.Contains(t, result, `data-state="succeeded"`, result)
	require.NotContains(t, result, "No test output yet")
	require.Equal(t, "obj-ok", b.target.calls("/second")[0].Body["from"], "the earlier step's sample output was used")
	_, body = u.get(t, base+"?step=http_2")
	require.Contains(t, body, `data-path="steps.http.body.id"`)
	sample := readListen(t, b.bundle, id).sample["steps"].(map[string]any)
	require.Contains(t, sample, "http")
	require.Contains(t, sample, "http_2")

	// The test run's page draws the test's own small definition.
	resp, body = u.get(t, "/runs/"+runID.String())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `data-node="http_2"`)
	require.Contains(t, body, `data-node="http"`)

	// Another workspace cannot read the result; a plain GET goes to the run.
	stranger := editorSignIn(t, b.bundle, "eve@example.com")
	resp, _ = stranger.hxGet(t, base+"/steps/http_2/test/"+runID.String())
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = u.get(t, base+"/steps/http_2/test/"+runID.String())
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/runs/"+runID.String(), resp.Header.Get("Location"))
}

func TestEditorTestStepWithoutEngine(t *testing.T) {
	t.Parallel()
	b := setupWithCatalog(t)
	u := editorSignIn(t, b, "ada@example.com")
	id := u.newFlow(t, "No engine", "blank")
	base := "/flows/" + id.String()
	u.hx(t, base+"/steps", url.Values{"action": {"http.request"}, "after": {"$trigger"}})
	resp, body := u.hx(t, base+"/steps/http/test", url.Values{"id": {"http"}, "in.url": {"https://example.com"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Contains(t, body, "no job engine")
	require.Contains(t, body, `data-testid="saved"`, "the form is still saved")
}
