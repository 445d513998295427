// Package slack is the Slack connector: slack.post_message through the Web API
// (chat.postMessage with a JSON body and a bot token in the Authorization
// header), connection tests through auth.test, and the Events API trigger
// with its request signing (VerifyEvent) and URL verification handshake.
package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchboard/switchboard/connectors"
)

// DefaultBaseURL is the Web API root; config.base_url replaces it.
const DefaultBaseURL = "https://slack.com/api"

// Slack is the Slack connector.
type Slack struct{}

var (
	_ connectors.Connector = (*Slack)(nil)
	_ connectors.Tester    = (*Slack)(nil)
)

// New returns the Slack connector.
func New() *Slack { return &Slack{} }

// Key returns "slack".
func (*Slack) Key() string { return "slack" }

// Name returns the display name.
func (*Slack) Name() string { return "Slack" }

// AuthFields returns the bot token and the optional base URL.
func (*Slack) AuthFields() []connectors.Field {
	return []connectors.Field{
		{
			Key: "token", Label: "Bot token", Type: connectors.FieldSecret, Secret: true, Required: true,
			Help:    "The Bot User OAuth Token of your Slack app (OAuth & Permissions), with the chat:write scope. Invite the bot to the channels it posts to.",
			Example: "xoxb-…",
		},
		{
			Key: "signing_secret", Label: "Signing secret", Type: connectors.FieldSecret, Secret: true,
			Help: "Only for the Events API trigger: Basic Information → App Credentials → Signing Secret.",
		},
		{
			Key: "base_url", Label: "API base URL", Type: connectors.FieldString,
			Help:    "Leave empty for " + DefaultBaseURL + ".",
			Example: DefaultBaseURL,
		},
	}
}

// Actions returns slack.post_message.
func (*Slack) Actions() []connectors.Action { return []connectors.Action{PostMessage{}} }

// EventsTrigger is the key of the Events API trigger.
const EventsTrigger = "slack.events"

// Triggers returns the Events API trigger.
func (*Slack) Triggers() []connectors.TriggerSpec {
	return []connectors.TriggerSpec{{
		Key:  EventsTrigger,
		Name: "Slack event (Events API)",
		Description: "Point your Slack app's Event Subscriptions Request URL at this flow's webhook URL. " +
			"Every request is checked against the signing secret (X-Slack-Signature, v0 HMAC-SHA256, " +
			"requests older than 5 minutes are refused) and the url_verification handshake is answered " +
			"with its challenge. The trigger payload is the event envelope: trigger.event is the inner " +
			"event (trigger.event.type == 'app_mention'), trigger.event_id is a good idempotency key. " +
			"Slack expects an answer within 3 seconds and retries up to 3 times otherwise.",
		Fields: []connectors.Field{{
			Key: "signing_secret", Label: "Signing secret", Type: connectors.FieldSecret, Secret: true, Required: true,
			Help: "Basic Information → App Credentials → Signing Secret of your Slack app.",
		}},
	}}
}

// TestConnection calls auth.test with the connection's token.
func (*Slack) TestConnection(ctx context.Context, conn *connectors.Connection, client *http.Client) error {
	token, err := connectors.RequireSecret(conn, "slack", "token")
	if err != nil {
		return err
	}
	var out struct {
		apiResponse
		Team string `json:"team"`
		User string `json:"user"`
	}
	return call(ctx, client, conn, token, "auth.test", map[string]any{}, &out)
}

// PostMessage is the slack.post_message action.
type PostMessage struct{}

// Spec describes slack.post_message.
func (PostMessage) Spec() connectors.ActionSpec {
	return connectors.ActionSpec{
		Key:         "slack.post_message",
		Name:        "Post a message",
		Description: "Posts a message to a channel with chat.postMessage. Slack's errors (channel_not_found, not_in_channel, invalid_auth…) fail the step at once with an explanation; rate limits are retried after Slack's Retry-After.",
		Fields: []connectors.Field{
			{Key: "channel", Label: "Channel", Type: connectors.FieldString, Required: true,
				Help: "A channel ID (C0123456789) or name (#general). The bot must be a member of private channels.", Example: "#general"},
			{Key: "text", Label: "Text", Type: connectors.FieldText,
				Help: "The message, in Slack mrkdwn. Required unless blocks are given; then it is the notification fallback.", Example: "New signup: {{ trigger.email }}"},
			{Key: "blocks", Label: "Blocks", Type: connectors.FieldJSON,
				Help:    "Optional Block Kit blocks (a JSON list), e.g. from Slack's Block Kit Builder.",
				Example: []any{map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": "*Deploy* finished"}}}},
			{Key: "thread_ts", Label: "Thread", Type: connectors.FieldString,
				Help: "The ts of a parent message to reply in its thread.", Example: "{{ steps.announce.ts }}"},
		},
		Outputs: []connectors.Field{
			{Key: "channel", Label: "Channel ID", Type: connectors.FieldString},
			{Key: "ts", Label: "Message timestamp", Type: connectors.FieldString, Help: "The message's ID; use it as thread_ts to reply in a thread."},
		},
	}
}

// Execute posts the message.
func (PostMessage) Execute(ctx context.Context, req connectors.Request) (map[string]any, error) {
	token, err := connectors.RequireSecret(req.Connection, "slack", "token")
	if err != nil {
		return nil, err
	}
	in := req.Input
	channel, err := connectors.InputString(in, "channel")
	if err != nil {
		return nil, err
	}
	text, err := connectors.InputText(in, "text")
	if err != nil {
		return nil, err
	}
	blocks, err := connectors.InputJSON(in, "blocks")
	if err != nil {
		return nil, err
	}
	if blocks != nil {
		list, ok := blocks.([]any)
		if !ok {
			return nil, connectors.InvalidInput("blocks", "must be a list of Block Kit blocks")
		}
		if len(list) == 0 {
			blocks = nil
		}
	}
	if strings.TrimSpace(text) == "" && blocks == nil {
		return nil, connectors.Permanent(0, "input.text is required (or give blocks)")
	}
	threadTS, err := connectors.InputOptionalString(in, "thread_ts")
	if err != nil {
		return nil, err
	}

	body := map[string]any{"channel": channel}
	if text != "" {
		body["text"] = text
	}
	if blocks != nil {
		body["blocks"] = blocks
	}
	if threadTS != "" {
		body["thread_ts"] = threadTS
	}
	var out struct {
		apiResponse
		Channel string `json:"channel"`
		TS      string `json:"ts"`
	}
	if err := call(ctx, req.HTTP, req.Connection, token, "chat.postMessage", body, &out); err != nil {
		return nil, err
	}
	return map[string]any{"channel": out.Channel, "ts": out.TS}, nil
}

// apiResponse is the envelope of every Web API answer.
type apiResponse struct {
	OK       bool   `json:"ok"`
	Error    string `json:"error"`
	Needed   string `json:"needed"`
	Provided string `json:"provided"`
}

func (r *apiResponse) envelope() *apiResponse { return r }

// call POSTs a JSON body to a Web API method and decodes the answer into out,
// mapping HTTP statuses and ok:false to the engine's error types.
func call[T interface{ envelope() *apiResponse }](ctx context.Context, client *http.Client, conn *connectors.Connection, token, method string, body any, out T) error {
	hreq, err := connectors.NewJSONRequest(ctx, http.MethodPost, connectors.BaseURL(conn, DefaultBaseURL)+"/"+method, body)
	if err != nil {
		return err
	}
	// Slack wants the charset on JSON bodies (else a missing_charset warning).
	hreq.Header.Set("Content-Type", "application/json; charset=utf-8")
	hreq.Header.Set("Authorization", "Bearer "+token)
	resp, err := connectors.DoHTTP(client, "slack", hreq)
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		msg := fmt.Sprintf("slack: %s answered HTTP %d %s", method, resp.Status, http.StatusText(resp.Status))
		if resp.Status == http.StatusTooManyRequests {
			msg = fmt.Sprintf("slack: %s rate limited (ratelimited); Slack asks to retry after %s",
				method, connectors.RetryAfter(resp.Header, connectors.DefaultRetryAfter))
		} else if e := errorCode(resp.Body); e != "" {
			msg += ": " + describe(e, nil)
		}
		return connectors.ClassifyHTTP(resp.Status, connectors.RetryAfter(resp.Header, 0), msg)
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return &connectors.RetryableError{Status: resp.Status, Message: fmt.Sprintf("slack: %s answered with a body that is not JSON: %s", method, connectors.BodySnippet(resp.Body, 120))}
	}
	env := out.envelope()
	if env.OK {
		return nil
	}
	return apiError(method, env, resp.Header)
}

// errorCode reads "error" from a JSON body, or "".
func errorCode(body []byte) string {
	var r apiResponse
	if json.Unmarshal(body, &r) != nil {
		return ""
	}
	return r.Error
}
