package jira_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/fake"
	"github.com/switchboard/switchboard/connectors/jira"
)

const (
	email = "bot@example.com"
	token = "ATATT-test-token"
)

type bundle struct {
	fake   *fake.Jira
	conn   *connectors.Connection
	client *http.Client
}

func setup(t *testing.T) bundle {
	t.Helper()
	f := fake.NewJira(email, token)
	t.Cleanup(f.Close)
	f.AddProject("OPS")
	return bundle{
		fake:   f,
		conn:   &connectors.Connection{Config: map[string]any{"base_url": f.BaseURL()}, Secrets: map[string]string{"email": email, "api_token": token}},
		client: fake.LoopbackClient(),
	}
}

func (b bundle) run(t *testing.T, a connectors.Action, input map[string]any) (map[string]any, error) {
	t.Helper()
	return a.Execute(context.Background(), connectors.Request{Input: input, Connection: b.conn, HTTP: b.client, IdempotencyKey: "run1:ticket"})
}

func (b bundle) create(t *testing.T) string {
	t.Helper()
	out, err := b.run(t, jira.CreateIssue{}, map[string]any{"project_key": "OPS", "summary": "Deploy"})
	require.NoError(t, err)
	return out["key"].(string)
}

func TestCreateIssue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out, err := b.run(t, jira.CreateIssue{}, map[string]any{
		"project_key": "OPS", "summary": "Onboard Acme", "description": "Signed up by a@acme.test\nplan: pro\n\nSecond paragraph",
		"labels": []any{"switchboard", "onboarding"},
	})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"id": "10001", "key": "OPS-1", "url": b.fake.URL + "/browse/OPS-1"}, out)

	r := b.fake.Requests()[0]
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/rest/api/3/issue", r.Path)
	require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte(email+":"+token)), r.Header.Get("Authorization"))
	require.Equal(t, "application/json", r.Header.Get("Content-Type"))
	require.JSONEq(t, `{"fields":{
		"project":{"key":"OPS"},
		"issuetype":{"name":"Task"},
		"summary":"Onboard Acme",
		"labels":["switchboard","onboarding"],
		"description":{"type":"doc","version":1,"content":[
			{"type":"paragraph","content":[{"type":"text","text":"Signed up by a@acme.test"},{"type":"hardBreak"},{"type":"text","text":"plan: pro"}]},
			{"type":"paragraph","content":[{"type":"text","text":"Second paragraph"}]}]}}}`, string(r.Body))

	is, ok := b.fake.Issue("OPS-1")
	require.True(t, ok)
	require.Equal(t, "Task", is.IssueType)
	require.Equal(t, "To Do", is.Status)
	require.Equal(t, []string{"switchboard", "onboarding"}, is.Labels)
}

func TestCreateIssueValidationError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.run(t, jira.CreateIssue{}, map[string]any{"project_key": "NOPE", "issue_type": "Saga", "summary": "x"})
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, 400, perm.Status)
	require.Equal(t, "jira: 400 Bad Request: project: Specify a valid project ID or key", perm.Message)

	_, err = b.run(t, jira.CreateIssue{}, map[string]any{"project_key": "OPS", "issue_type": "Saga", "summary": "x"})
	require.ErrorAs(t, err, &perm)
	require.Equal(t, "jira: 400 Bad Request: issuetype: Specify a valid issue type", perm.Message)

	_, err = b.run(t, jira.CreateIssue{}, map[string]any{"project_key": "OPS"})
	require.ErrorAs(t, err, &perm)
	require.Equal(t, "input.summary is required", perm.Message)
}

func TestTransitionIssue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := b.create(t)

	out, err := b.run(t, jira.TransitionIssue{}, map[string]any{"issue_key": key, "transition": "done"})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"issue_key": key, "transition_id": "31", "status": "Done"}, out)
	is, _ := b.fake.Issue(key)
	require.Equal(t, "Done", is.Status)

	reqs := b.fake.Requests()
	get, post := reqs[len(reqs)-2], reqs[len(reqs)-1]
	require.Equal(t, http.MethodGet, get.Method)
	require.Equal(t, "/rest/api/3/issue/"+key+"/transitions", get.Path)
	require.Equal(t, http.MethodPost, post.Method)
	require.Equal(t, "/rest/api/3/issue/"+key+"/transitions", post.Path)
	require.JSONEq(t, `{"transition":{"id":"31"}}`, string(post.Body))

	// By id.
	out, err = b.run(t, jira.TransitionIssue{}, map[string]any{"issue_key": key, "transition": "21"})
	require.NoError(t, err)
	require.Equal(t, "In Progress", out["status"])

	_, err = b.run(t, jira.TransitionIssue{}, map[string]any{"issue_key": key, "transition": "Shipped"})
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, `jira: issue `+key+` has no transition "Shipped"; available: To Do (id 11), Done (id 31)`, perm.Message)

	_, err = b.run(t, jira.TransitionIssue{}, map[string]any{"issue_key": "OPS-999", "transition": "Done"})
	require.ErrorAs(t, err, &perm)
	require.Equal(t, 404, perm.Status)
	require.Equal(t, "jira: 404 Not Found: Issue does not exist or you do not have permission to see it.", perm.Message)
}

func TestAddComment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := b.create(t)
	out, err := b.run(t, jira.AddComment{}, map[string]any{"issue_key": key, "body": "Deployed.\n\nAll good."})
	require.NoError(t, err)
	require.NotEmpty(t, out["id"])

	reqs := b.fake.Requests()
	r := reqs[len(reqs)-1]
	require.Equal(t, "/rest/api/3/issue/"+key+"/comment", r.Path)
	require.JSONEq(t, `{"body":{"type":"doc","version":1,"content":[
		{"type":"paragraph","content":[{"type":"text","text":"Deployed."}]},
		{"type":"paragraph","content":[{"type":"text","text":"All good."}]}]}}`, string(r.Body))
	is, _ := b.fake.Issue(key)
	require.Len(t, is.Comments, 1)
	require.Equal(t, out["id"], is.Comments[0].ID)
}

func TestAuthFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conn.Secrets["api_token"] = "wrong"
	_, err := b.run(t, jira.CreateIssue{}, map[string]any{"project_key": "OPS", "summary": "x"})
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, 401, perm.Status)
	require.Equal(t, "jira: 401 Unauthorized: Client must be authenticated to access this resource.", perm.Message)
	require.NotContains(t, perm.Message, "wrong")

	err = jira.New().TestConnection(context.Background(), b.conn, b.client)
	require.ErrorAs(t, err, &perm)
	require.Equal(t, 401, perm.Status)

	delete(b.conn.Config, "base_url")
	_, err = b.run(t, jira.CreateIssue{}, map[string]any{"project_key": "OPS", "summary": "x"})
	require.ErrorAs(t, err, &perm)
	require.Contains(t, perm.Message, "config.base_url")
}

func TestRateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.RateLimitNext(1, 17*time.Second)
	_, err := b.run(t, jira.CreateIssue{}, map[string]any{"project_key": "OPS", "summary": "x"})
	rl, ok := connectors.AsRateLimited(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, 17*time.Second, rl.RetryAfter)
	require.Contains(t, rl.Message, "429")
	require.Empty(t, b.fake.Issues())
}

func TestServerError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.FailNext(1, http.StatusBadGateway)
	_, err := b.run(t, jira.CreateIssue{}, map[string]any{"project_key": "OPS", "summary": "x"})
	var re *connectors.RetryableError
	require.ErrorAs(t, err, &re)
	require.Equal(t, 502, re.Status)
	require.Equal(t, "jira: 502 Bad Gateway", re.Message, "an HTML body is not quoted")
}

func TestTestConnection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, jira.New().TestConnection(context.Background(), b.conn, b.client))
	r := b.fake.Requests()[0]
	require.Equal(t, "/rest/api/3/myself", r.Path)
	require.Equal(t, http.MethodGet, r.Method)
}

func TestADF(t *testing.T) {
	t.Parallel()
	require.Equal(t, map[string]any{"type": "doc", "version": 1, "content": []any{}}, jira.ADF(" \n\n "))
	doc := jira.ADF("a\r\nb\n\n\n  \nc\n\nd\n\ne")
	b, _ := json.Marshal(doc)
	require.JSONEq(t, `{"type":"doc","version":1,"content":[
		{"type":"paragraph","content":[{"type":"text","text":"a"},{"type":"hardBreak"},{"type":"text","text":"b"}]},
		{"type":"paragraph","content":[{"type":"text","text":"c"}]},
		{"type":"paragraph","content":[{"type":"text","text":"d"}]},
		{"type":"paragraph","content":[{"type":"text","text":"e"}]}]}`, string(b))
}

func TestLabelsWithSpaces(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.run(t, jira.CreateIssue{}, map[string]any{"project_key": "OPS", "summary": "x", "labels": []any{"has space"}})
	require.True(t, connectors.IsPermanent(err))
	require.Equal(t, "input.labels must not contain spaces", err.Error())
	require.Empty(t, b.fake.Requests())
}

func TestVerifySignature(t *testing.T) {
	t.Parallel()
	body := []byte(`{"webhookEvent":"jira:issue_updated","issue":{"key":"PROJ-123"}}`)
	h := func(v string) http.Header {
		hd := http.Header{}
		if v != "" {
			hd.Set("X-Hub-Signature", v)
		}
		return hd
	}
	good := jira.Sign("s3cret", body)
	require.Regexp(t, `^sha256=[0-9a-f]{64}$`, good)
	require.NoError(t, jira.VerifySignature("s3cret", h(good), body))

	// GitHub's documented vector uses the same construction (CONNECTORS.md §5.2).
	require.NoError(t, jira.VerifySignature("It's a Secret to Everybody",
		h("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"), []byte("Hello, World!")))

	require.ErrorIs(t, jira.VerifySignature("s3cret", h(good), append(body, ' ')), jira.ErrInvalidSignature)
	require.ErrorIs(t, jira.VerifySignature("other", h(good), body), jira.ErrInvalidSignature)
	require.ErrorIs(t, jira.VerifySignature("s3cret", h(""), body), jira.ErrMissingSignature)
	require.ErrorIs(t, jira.VerifySignature("s3cret", h(good[7:]), body), jira.ErrInvalidSignature)
	require.ErrorIs(t, jira.VerifySignature("s3cret", h("sha1="+good[7:]), body), jira.ErrInvalidSignature)
	require.ErrorIs(t, jira.VerifySignature("s3cret", h("sha256=zz"), body), jira.ErrInvalidSignature)
	require.Error(t, jira.VerifySignature("", h(good), body))
}
