// Package mailchimp is the Mailchimp Marketing API v3 connector: upsert a list
// member (PUT, idempotent by design) and add tags, authenticated with an API
// key whose "-us21" suffix picks the data centre; connection tests through
// GET /ping; and the list webhook trigger (form-encoded events, parsed by
// ParseWebhookForm).
package mailchimp

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/switchboard/switchboard/connectors"
)

// Mailchimp is the Mailchimp connector.
type Mailchimp struct{}

var (
	_ connectors.Connector = (*Mailchimp)(nil)
	_ connectors.Tester    = (*Mailchimp)(nil)
)

// New returns the Mailchimp connector.
func New() *Mailchimp { return &Mailchimp{} }

// Key returns "mailchimp".
func (*Mailchimp) Key() string { return "mailchimp" }

// Name returns the display name.
func (*Mailchimp) Name() string { return "Mailchimp" }

// AuthFields returns the API key and the optional base URL.
func (*Mailchimp) AuthFields() []connectors.Field {
	return []connectors.Field{
		{
			Key: "api_key", Label: "API key", Type: connectors.FieldSecret, Secret: true, Required: true,
			Help:    "Account → Extras → API keys. The part after the dash (us21) is your data centre.",
			Example: "0123456789abcdef0123456789abcdef-us21",
		},
		{
			Key: "base_url", Label: "API base URL", Type: connectors.FieldString,
			Help:    "Leave empty for https://<dc>.api.mailchimp.com/3.0, with the data centre taken from the API key.",
			Example: "https://us21.api.mailchimp.com/3.0",
		},
	}
}

// Actions returns mailchimp.upsert_member and mailchimp.add_tags.
func (*Mailchimp) Actions() []connectors.Action {
	return []connectors.Action{UpsertMember{}, AddTags{}}
}

// ListWebhookTrigger is the key of the list webhook trigger.
const ListWebhookTrigger = "mailchimp.list_webhook"

// Triggers returns the list webhook trigger.
func (*Mailchimp) Triggers() []connectors.TriggerSpec {
	return []connectors.TriggerSpec{{
		Key:  ListWebhookTrigger,
		Name: "Audience webhook",
		Description: "In Mailchimp, Audience → Settings → Webhooks, add this flow's webhook URL (it carries its own " +
			"secret token; Mailchimp does not sign requests). Mailchimp checks the URL with a GET, which is answered " +
			"200, then POSTs form-encoded events. The trigger payload is the form as nested objects: trigger.type " +
			"(subscribe, unsubscribe, profile, upemail, cleaned, campaign), trigger.fired_at, trigger.data.email, " +
			"trigger.data.list_id, trigger.data.merges.FNAME. Filter with, e.g., trigger.type == 'subscribe'.",
	}}
}

// TestConnection calls GET /ping.
func (*Mailchimp) TestConnection(ctx context.Context, conn *connectors.Connection, client *http.Client) error {
	root, key, err := endpoint(conn)
	if err != nil {
		return err
	}
	_, err = do(ctx, client, key, http.MethodGet, root+"/ping", nil)
	return err
}

var dcPattern = regexp.MustCompile(`^[a-z]{2,8}[0-9]{1,4}$`)

// DataCenter returns the data centre of an API key ("…-us21" → "us21"), or
// "" when the key has no valid suffix.
func DataCenter(apiKey string) string {
	i := strings.LastIndexByte(apiKey, '-')
	if i < 0 {
		return ""
	}
	dc := strings.ToLower(strings.TrimSpace(apiKey[i+1:]))
	if !dcPattern.MatchString(dc) {
		return ""
	}
	return dc
}

// endpoint returns the API root and key of a connection.
func endpoint(conn *connectors.Connection) (root, key string, err error) {
	key, err = connectors.RequireSecret(conn, "mailchimp", "api_key")
	if err != nil {
		return "", "", err
	}
	root = connectors.BaseURL(conn, "")
	if root == "" {
		dc := DataCenter(key)
		if dc == "" {
			return "", "", connectors.Permanent(0, `mailchimp: the API key has no data centre suffix (it should end in "-us21" or similar)`)
		}
		root = "https://" + dc + ".api.mailchimp.com/3.0"
	}
	return root, key, nil
}

// SubscriberHash is Mailchimp's member id: the MD5 of the trimmed, lowercase
// email address, in hex.
func SubscriberHash(email string) string {
	sum := md5.Sum([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:])
}

// memberURL is {root}/lists/{list_id}/members/{hash}.
func memberURL(root, listID, email string) string {
	return root + "/lists/" + url.PathEscape(listID) + "/members/" + SubscriberHash(email)
}

// problem is Mailchimp's error body (application/problem+json).
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// do sends a request with Basic auth (any user name, the key as password)
// and maps Mailchimp's problem+json errors.
func do(ctx context.Context, client *http.Client, key, method, target string, body any) ([]byte, error) {
	hreq, err := connectors.NewJSONRequest(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	hreq.SetBasicAuth("switchboard", key)
	resp, err := connectors.DoHTTP(client, "mailchimp", hreq)
	if err != nil {
		return nil, err
	}
	if resp.Status >= 200 && resp.Status < 300 {
		return resp.Body, nil
	}
	return nil, connectors.ClassifyHTTP(resp.Status, connectors.RetryAfter(resp.Header, 0), errorMessage(resp.Status, resp.Body))
}

// errorMessage builds "mailchimp: 400 Invalid Resource: Your merge fields
// were invalid. (LTV: Please enter a number)" from a problem+json body, or
// falls back to the status and a snippet of a body of another shape.
func errorMessage(status int, body []byte) string {
	var p problem
	if json.Unmarshal(body, &p) != nil || (p.Title == "" && p.Detail == "") {
		msg := fmt.Sprintf("mailchimp: HTTP %d %s", status, http.StatusText(status))
		if s := connectors.BodySnippet(body, 200); s != "" && !strings.HasPrefix(s, "<") {
			msg += ": " + s
		}
		return msg
	}
	msg := fmt.Sprintf("mailchimp: %d %s", status, p.Title)
	if p.Detail != "" {
		msg += ": " + p.Detail
	}
	if len(p.Errors) > 0 {
		parts := make([]string, 0, len(p.Errors))
		for _, e := range p.Errors {
			if e.Field != "" {
				parts = append(parts, e.Field+": "+e.Message)
			} else {
				parts = append(parts, e.Message)
			}
		}
		msg += " (" + strings.Join(parts, "; ") + ")"
	}
	return msg
}
