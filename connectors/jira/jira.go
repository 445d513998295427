// Package jira is the Jira Cloud connector (REST API v3): create issues,
// transition them by name or id, add comments, with descriptions and
// comments converted from plain text to the Atlassian Document Format;
// connection tests through /rest/api/3/myself; and the issue webhook trigger
// with its X-Hub-Signature check (VerifySignature).
package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/switchboard/switchboard/connectors"
)

// Jira is the Jira connector.
type Jira struct{}

var (
	_ connectors.Connector = (*Jira)(nil)
	_ connectors.Tester    = (*Jira)(nil)
)

// New returns the Jira connector.
func New() *Jira { return &Jira{} }

// Key returns "jira".
func (*Jira) Key() string { return "jira" }

// Name returns the display name.
func (*Jira) Name() string { return "Jira" }

// AuthFields returns the site URL, the account email and the API token.
func (*Jira) AuthFields() []connectors.Field {
	return []connectors.Field{
		{
			Key: "base_url", Label: "Site URL", Type: connectors.FieldString, Required: true,
			Help: "Your Jira Cloud site.", Example: "https://your-domain.atlassian.net",
		},
		{
			Key: "email", Label: "Account email", Type: connectors.FieldSecret, Secret: true, Required: true,
			Help: "The email of the Atlassian account the API token belongs to.", Example: "bot@example.com",
		},
		{
			Key: "api_token", Label: "API token", Type: connectors.FieldSecret, Secret: true, Required: true,
			Help: "Create one at https://id.atlassian.com/manage-profile/security/api-tokens.",
		},
		{
			Key: "secret", Label: "Webhook secret", Type: connectors.FieldSecret, Secret: true,
			Help: "Only for the issue webhook trigger: the secret set on the Jira webhook (X-Hub-Signature).",
		},
	}
}

// Actions returns jira.create_issue, jira.transition_issue and jira.add_comment.
func (*Jira) Actions() []connectors.Action {
	return []connectors.Action{CreateIssue{}, TransitionIssue{}, AddComment{}}
}

// IssueWebhookTrigger is the key of the issue webhook trigger.
const IssueWebhookTrigger = "jira.issue_webhook"

// Triggers returns the issue webhook trigger.
func (*Jira) Triggers() []connectors.TriggerSpec {
	return []connectors.TriggerSpec{{
		Key:  IssueWebhookTrigger,
		Name: "Issue webhook",
		Description: "In Jira, Settings → System → WebHooks, create a webhook with this flow's webhook URL, the " +
			"issue events you want (created, updated…) and a JQL filter such as project = PROJ. With a secret, " +
			"Jira signs each delivery (X-Hub-Signature: sha256=…) and the signature is checked. The payload has " +
			"trigger.webhookEvent (\"jira:issue_updated\"), trigger.issue (key, fields) and trigger.changelog; " +
			"X-Atlassian-Webhook-Identifier is stable across retries (use headers['X-Atlassian-Webhook-Identifier'] " +
			"as the idempotency key). To run only when an issue moved to a done status, whatever the workflow " +
			"calls it, set the trigger's if to: trigger.webhookEvent == 'jira:issue_updated' && " +
			"any(trigger.changelog.items, .field == 'status') && trigger.issue.fields.status.statusCategory.key == 'done'. " +
			"Status category keys are new (To Do), indeterminate (In Progress) and done.",
		Fields: []connectors.Field{{
			Key: "secret", Label: "Webhook secret", Type: connectors.FieldSecret, Secret: true,
			Help: "The secret entered on the Jira webhook. Leave empty only for webhooks created without one (they are not signed).",
		}},
	}}
}

// TestConnection calls GET /rest/api/3/myself.
func (*Jira) TestConnection(ctx context.Context, conn *connectors.Connection, client *http.Client) error {
	site, err := newSite(conn)
	if err != nil {
		return err
	}
	_, err = site.do(ctx, client, http.MethodGet, "/rest/api/3/myself", nil)
	return err
}

// site is a connection's Jira site and credentials.
type site struct {
	root, email, token string
}

func newSite(conn *connectors.Connection) (site, error) {
	root := connectors.BaseURL(conn, "")
	if root == "" {
		return site{}, connectors.Permanent(0, "jira: the connection has no config.base_url (your site, e.g. https://your-domain.atlassian.net)")
	}
	email, err := connectors.RequireSecret(conn, "jira", "email")
	if err != nil {
		return site{}, err
	}
	token, err := connectors.RequireSecret(conn, "jira", "api_token")
	if err != nil {
		return site{}, err
	}
	return site{root: root, email: email, token: token}, nil
}

// issuePath is /rest/api/3/issue/{key}{suffix} with the key escaped.
func issuePath(key, suffix string) string {
	return "/rest/api/3/issue/" + url.PathEscape(key) + suffix
}

// do sends a request with Basic auth (email:api_token) and maps Jira's errors.
func (s site) do(ctx context.Context, client *http.Client, method, path string, body any) ([]byte, error) {
	hreq, err := connectors.NewJSONRequest(ctx, method, s.root+path, body)
	if err != nil {
		return nil, err
	}
	hreq.SetBasicAuth(s.email, s.token)
	resp, err := connectors.DoHTTP(client, "jira", hreq)
	if err != nil {
		return nil, err
	}
	if resp.Status >= 200 && resp.Status < 300 {
		return resp.Body, nil
	}
	return nil, connectors.ClassifyHTTP(resp.Status, connectors.RetryAfter(resp.Header, 0), errorMessage(resp.Status, resp.Body))
}

// errorMessage turns Jira's {"errorMessages":[…],"errors":{field:msg}} (or a
// {"message":…} / plain-text answer) into "jira: 400 Bad Request: Field
// 'priority' is required; summary: You must specify a summary of the issue."
func errorMessage(status int, body []byte) string {
	msg := fmt.Sprintf("jira: %d %s", status, http.StatusText(status))
	var e struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
		Message       string            `json:"message"`
	}
	var parts []string
	if json.Unmarshal(body, &e) == nil {
		parts = append(parts, e.ErrorMessages...)
		keys := make([]string, 0, len(e.Errors))
		for k := range e.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			parts = append(parts, k+": "+e.Errors[k])
		}
		if e.Message != "" {
			parts = append(parts, e.Message)
		}
	} else if s := connectors.BodySnippet(body, 200); s != "" && !strings.HasPrefix(s, "<") {
		parts = append(parts, s)
	}
	if len(parts) > 0 {
		msg += ": " + strings.Join(parts, "; ")
	}
	return msg
}
