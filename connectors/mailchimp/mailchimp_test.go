package mailchimp_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/connectors/fake"
	"github.com/switchboard/switchboard/connectors/mailchimp"
)

const apiKey = "0123456789abcdef0123456789abcdef-us21"

type bundle struct {
	fake   *fake.Mailchimp
	conn   *connectors.Connection
	client *http.Client
}

func setup(t *testing.T) bundle {
	t.Helper()
	f := fake.NewMailchimp(apiKey)
	t.Cleanup(f.Close)
	f.AddList("a1b2c3")
	return bundle{
		fake:   f,
		conn:   &connectors.Connection{Config: map[string]any{"base_url": f.BaseURL()}, Secrets: map[string]string{"api_key": apiKey}},
		client: fake.LoopbackClient(),
	}
}

func (b bundle) run(t *testing.T, a connectors.Action, input map[string]any) (map[string]any, error) {
	t.Helper()
	return a.Execute(context.Background(), connectors.Request{Input: input, Connection: b.conn, HTTP: b.client, IdempotencyKey: "run1:subscribe"})
}

func TestSubscriberHash(t *testing.T) {
	t.Parallel()
	require.Equal(t, "62eeb292278cc15f5817cb78f7790b08", mailchimp.SubscriberHash("urist.mcvankab@freddiesjokes.com"))
	require.Equal(t, "62eeb292278cc15f5817cb78f7790b08", mailchimp.SubscriberHash(" Urist.McVankab@FreddiesJokes.com "))
}

func TestDataCenter(t *testing.T) {
	t.Parallel()
	require.Equal(t, "us21", mailchimp.DataCenter(apiKey))
	require.Equal(t, "us6", mailchimp.DataCenter("abc-us6"))
	require.Empty(t, mailchimp.DataCenter("abc"))
	require.Empty(t, mailchimp.DataCenter("abc-evil.com/x"))
	require.Empty(t, mailchimp.DataCenter("abc-"))
}

func TestUpsertMember(t *testing.T) {
	t.Parallel()
	b := setup(t)
	out, err := b.run(t, mailchimp.UpsertMember{}, map[string]any{
		"list_id": "a1b2c3", "email": "Ann@Example.com", "merge_fields": map[string]any{"FNAME": "Ann"}, "tags": []any{"signup", "beta"},
	})
	require.NoError(t, err)
	hash := mailchimp.SubscriberHash("ann@example.com")
	require.Equal(t, map[string]any{"id": hash, "status": "subscribed"}, out)

	reqs := b.fake.Requests()
	require.Len(t, reqs, 2)
	put := reqs[0]
	require.Equal(t, http.MethodPut, put.Method)
	require.Equal(t, "/3.0/lists/a1b2c3/members/"+hash, put.Path)
	require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("switchboard:"+apiKey)), put.Header.Get("Authorization"))
	require.Equal(t, "application/json", put.Header.Get("Content-Type"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(put.Body, &body))
	require.Equal(t, map[string]any{"email_address": "Ann@Example.com", "status_if_new": "subscribed", "merge_fields": map[string]any{"FNAME": "Ann"}}, body)

	tags := reqs[1]
	require.Equal(t, http.MethodPost, tags.Method)
	require.Equal(t, "/3.0/lists/a1b2c3/members/"+hash+"/tags", tags.Path)
	require.JSONEq(t, `{"tags":[{"name":"signup","status":"active"},{"name":"beta","status":"active"}],"is_syncing":false}`, string(tags.Body))

	mem, ok := b.fake.Member("a1b2c3", "ann@example.com")
	require.True(t, ok)
	require.Equal(t, "subscribed", mem.Status)
	require.Equal(t, map[string]any{"FNAME": "Ann"}, mem.MergeFields)
	require.Equal(t, []string{"beta", "signup"}, mem.Tags)

	// A second upsert updates the same member: PUT is idempotent.
	out, err = b.run(t, mailchimp.UpsertMember{}, map[string]any{
		"list_id": "a1b2c3", "email": "ann@example.com", "status_if_new": "pending", "merge_fields": `{"LNAME":"Lee"}`,
	})
	require.NoError(t, err)
	require.Equal(t, "subscribed", out["status"], "status_if_new leaves existing members alone")
	require.Len(t, b.fake.Members("a1b2c3"), 1)
	mem, _ = b.fake.Member("a1b2c3", "ann@example.com")
	require.Equal(t, map[string]any{"FNAME": "Ann", "LNAME": "Lee"}, mem.MergeFields)
}

func TestAddTags(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.run(t, mailchimp.UpsertMember{}, map[string]any{"list_id": "a1b2c3", "email": "bo@example.com"})
	require.NoError(t, err)
	out, err := b.run(t, mailchimp.AddTags{}, map[string]any{"list_id": "a1b2c3", "email": "bo@example.com", "tags": "vip, pro"})
	require.NoError(t, err)
	require.Empty(t, out)
	mem, _ := b.fake.Member("a1b2c3", "bo@example.com")
	require.Equal(t, []string{"pro", "vip"}, mem.Tags)

	_, err = b.run(t, mailchimp.AddTags{}, map[string]any{"list_id": "a1b2c3", "email": "nobody@example.com", "tags": []any{"x"}})
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, 404, perm.Status)
	require.Equal(t, "mailchimp: 404 Resource Not Found: The requested resource could not be found.", perm.Message)

	_, err = b.run(t, mailchimp.AddTags{}, map[string]any{"list_id": "a1b2c3", "email": "bo@example.com"})
	require.ErrorAs(t, err, &perm)
	require.Equal(t, "input.tags is required", perm.Message)
}

func TestUpsertMemberErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var perm *connectors.PermanentError

	_, err := b.run(t, mailchimp.UpsertMember{}, map[string]any{"list_id": "nope", "email": "a@example.com"})
	require.ErrorAs(t, err, &perm)
	require.Contains(t, perm.Message, "Resource Not Found")

	_, err = b.run(t, mailchimp.UpsertMember{}, map[string]any{"list_id": "a1b2c3", "email": "a@example.com", "status_if_new": "maybe"})
	require.ErrorAs(t, err, &perm)
	require.Equal(t, "input.status_if_new must be one of subscribed, unsubscribed, cleaned, pending, transactional", perm.Message)

	_, err = b.run(t, mailchimp.UpsertMember{}, map[string]any{"list_id": "a1b2c3", "email": "not-an-email"})
	require.ErrorAs(t, err, &perm)
	require.Equal(t, "input.email is not an email address", perm.Message)
	require.Len(t, b.fake.Requests(), 1)
}

func TestAuthFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.conn.Secrets["api_key"] = "ffffffffffffffffffffffffffffffff-us21"
	_, err := b.run(t, mailchimp.UpsertMember{}, map[string]any{"list_id": "a1b2c3", "email": "a@example.com"})
	var perm *connectors.PermanentError
	require.ErrorAs(t, err, &perm)
	require.Equal(t, 401, perm.Status)
	require.Equal(t, "mailchimp: 401 API Key Invalid: Your API key may be invalid, or you've attempted to access the wrong datacenter.", perm.Message)
	require.NotContains(t, perm.Message, "ffff")

	err = mailchimp.New().TestConnection(context.Background(), b.conn, b.client)
	require.ErrorAs(t, err, &perm)
	require.Contains(t, perm.Message, "API Key Invalid")

	b.conn.Secrets["api_key"] = ""
	_, err = b.run(t, mailchimp.UpsertMember{}, map[string]any{"list_id": "a1b2c3", "email": "a@example.com"})
	require.ErrorAs(t, err, &perm)
	require.Equal(t, "mailchimp: the connection has no secrets.api_key", perm.Message)
}

func TestRateLimited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.RateLimitNext(1, 0)
	_, err := b.run(t, mailchimp.UpsertMember{}, map[string]any{"list_id": "a1b2c3", "email": "a@example.com"})
	rl, ok := connectors.AsRateLimited(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, connectors.DefaultRetryAfter, rl.RetryAfter, "Mailchimp sends no Retry-After")
	require.Contains(t, rl.Message, "429 Too Many Requests")

	b.fake.RateLimitNext(1, 20*time.Second)
	_, err = b.run(t, mailchimp.UpsertMember{}, map[string]any{"list_id": "a1b2c3", "email": "a@example.com"})
	rl, ok = connectors.AsRateLimited(err)
	require.True(t, ok)
	require.Equal(t, 20*time.Second, rl.RetryAfter)
}

func TestServerError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.fake.FailNext(1, http.StatusInternalServerError)
	_, err := b.run(t, mailchimp.UpsertMember{}, map[string]any{"list_id": "a1b2c3", "email": "a@example.com"})
	var re *connectors.RetryableError
	require.ErrorAs(t, err, &re)
	require.Equal(t, 500, re.Status)
	require.False(t, connectors.IsPermanent(err))
	_, ok := b.fake.Member("a1b2c3", "a@example.com")
	require.False(t, ok)
}

func TestTestConnection(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, mailchimp.New().TestConnection(context.Background(), b.conn, b.client))
	r := b.fake.Requests()[0]
	require.Equal(t, http.MethodGet, r.Method)
	require.Equal(t, "/3.0/ping", r.Path)
}

func TestDefaultRootFromDataCenter(t *testing.T) {
	t.Parallel()
	// Without base_url the request goes to https://us21.api.mailchimp.com;
	// a client that refuses every dial shows the address it tried without
	// touching the network.
	var host string
	client := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		host = r.URL.Host + r.URL.Path
		return nil, context.Canceled
	})}
	conn := &connectors.Connection{Secrets: map[string]string{"api_key": apiKey}}
	err := mailchimp.New().TestConnection(context.Background(), conn, client)
	require.Error(t, err)
	require.Equal(t, "us21.api.mailchimp.com/3.0/ping", host)

	conn.Secrets["api_key"] = "nodc"
	err = mailchimp.New().TestConnection(context.Background(), conn, client)
	require.True(t, connectors.IsPermanent(err))
	require.Contains(t, err.Error(), "data centre")
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestParseWebhookForm(t *testing.T) {
	t.Parallel()
	form, err := url.ParseQuery("type=subscribe&fired_at=2025-01-24+15%3A30%3A00&data[id]=8a25ff1d98&data[email]=user@example.com" +
		"&data[email_type]=html&data[list_id]=a6b5da1054&data[merges][EMAIL]=user@example.com&data[merges][FNAME]=John" +
		"&data[merges][GROUPINGS][0][name]=Interests&data[merges][GROUPINGS][1][name]=Plans&tags[]=a&tags[]=b&odd[key=x&odd]=y")
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"type":     "subscribe",
		"fired_at": "2025-01-24 15:30:00",
		"data": map[string]any{
			"id": "8a25ff1d98", "email": "user@example.com", "email_type": "html", "list_id": "a6b5da1054",
			"merges": map[string]any{
				"EMAIL": "user@example.com", "FNAME": "John",
				"GROUPINGS": []any{map[string]any{"name": "Interests"}, map[string]any{"name": "Plans"}},
			},
		},
		"tags":    []any{"a", "b"},
		"odd[key": "x",
		"odd]":    "y",
	}, mailchimp.ParseWebhookForm(form))

	require.Equal(t, map[string]any{"0": "a", "1": "b"}, mailchimp.ParseWebhookForm(url.Values{"0": {"a"}, "1": {"b"}}))
	require.Equal(t, map[string]any{"a": "2"}, mailchimp.ParseWebhookForm(url.Values{"a": {"1", "2"}}))
}

func FuzzParseWebhookForm(f *testing.F) {
	f.Add("type=subscribe&data[merges][FNAME]=x&a[]=1&a[]=2")
	f.Add("a=1&a[b]=2&a[b][c]=3")
	f.Add("[x]=1&x[[y]]=2")
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		out := mailchimp.ParseWebhookForm(values)
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("not JSON-encodable: %v", err)
		}
	})
}
