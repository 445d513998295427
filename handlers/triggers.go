package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/switchboard/switchboard/connectors/jira"
	"github.com/switchboard/switchboard/connectors/mailchimp"
	"github.com/switchboard/switchboard/connectors/slack"
	"github.com/switchboard/switchboard/connectors/webhook"
	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/store"
)

// Webhook triggers: what POST /hooks/:token does for each trigger.type of the
// flow definition, and the trigger.config each one reads. Secrets never go in
// the definition (the API, the editor and run pages show it): a trigger that
// checks signatures names a connection of the flow's workspace in
// config.connection, and ingest decrypts the secret from that connection.
//
// webhook (also spelled "webhook.incoming", the catalog's trigger key):
//
//	{}                                           no check
//	{"signature": "standard_webhooks",           Standard Webhooks: webhook-id,
//	 "connection": "<webhook connection id>"}    webhook-timestamp, webhook-signature
//	{"signature": "hmac_sha256_header",          HMAC-SHA256 of the raw body, hex or
//	 "signature_header": "X-Hub-Signature-256",  base64, optional "sha256=" prefix;
//	 "connection": "<webhook connection id>"}    the header defaults to X-Hub-Signature-256
//
// The secret is the webhook connection's secrets.secret (the name of the
// trigger spec's secret field): "whsec_<base64>" for Standard Webhooks, the
// shared secret for the header HMAC. "signature": "none" is the same as no
// signature. Standard Webhooks deliveries dedupe on webhook-id.
//
// slack.events:
//
//	{"connection": "<slack connection id>"}      required
//
// Every request is verified (X-Slack-Signature v0, 5-minute window) with the
// Slack connection's secrets.signing_secret. A url_verification body is
// answered 200 {"challenge": "…"} and stores nothing. Any other body (the
// event_callback envelope) is the trigger payload as a whole: flows read
// trigger.event.type, trigger.event_id… Deliveries dedupe on the body's
// event_id, so Slack's retries (X-Slack-Retry-Num) never run a flow twice.
//
// jira.issue_webhook:
//
//	{}                                           an admin webhook saved without a secret
//	{"connection": "<jira connection id>"}       verify X-Hub-Signature: sha256=<hex>
//
// The secret is the Jira connection's secrets.secret. The JSON body is the
// payload; deliveries dedupe on X-Atlassian-Webhook-Identifier.
//
// mailchimp.list_webhook:
//
//	{}                                           Mailchimp does not sign; the URL's token is the secret
//
// GET answers 200 (Mailchimp's validation ping, see ingestValidate); POSTed
// forms with PHP-style keys (data[merges][FNAME]) become nested objects.
//
// manual, schedule, event and any other type take no webhooks: 404.
//
// Keys left blank ("" or null) are the same as absent, so a form may send
// every field. Everything fails closed: a request whose configured signature
// is missing, wrong or outside the 5-minute window is answered 401
// {"error":{"code":"invalid_signature",…}} and stores nothing; a trigger
// whose config cannot be honoured (an unknown scheme or key, a connection
// that is gone, of another service or without the secret) refuses every
// request with 500 trigger_misconfigured, storing nothing either. The
// per-type dedupe keys above apply when neither an Idempotency-Key request
// header nor the trigger's idempotency_key expression gives one.

// Trigger types of connectors that ingest knows; see the comment above.
const (
	triggerWebhookIncoming = webhook.IncomingTrigger      // "webhook.incoming"
	triggerSlackEvents     = slack.EventsTrigger          // "slack.events"
	triggerJiraIssue       = jira.IssueWebhookTrigger     // "jira.issue_webhook"
	triggerMailchimpList   = mailchimp.ListWebhookTrigger // "mailchimp.list_webhook"
)

// Names of the connection secrets the triggers read: the keys of the secret
// fields of the connectors' trigger specs.
const (
	webhookSecretKey = "secret"
	slackSecretKey   = "signing_secret"
	jiraSecretKey    = "secret"
)

// hookTrigger is what ingest needs of a flow's trigger.
type hookTrigger struct {
	// kind is the normalised type: flows.TriggerWebhook for both spellings
	// of the generic webhook, else the definition's type.
	kind string
	// hasKeyExpr is true when the definition sets an idempotency_key.
	hasKeyExpr bool
	// scheme is the generic webhook's signature scheme (webhook.Scheme*).
	scheme string
	// header is the header of webhook.SchemeHMACHeader.
	header string
	// connection holds the verification secret; uuid.Nil means none.
	connection uuid.UUID
}

// postable reports whether the trigger takes webhook deliveries.
func (t hookTrigger) postable() bool {
	switch t.kind {
	case flows.TriggerWebhook, triggerSlackEvents, triggerJiraIssue, triggerMailchimpList:
		return true
	}
	return false
}

// connectorKey is the connector whose connection holds the trigger's secret,
// and secretKey that secret's name.
func (t hookTrigger) connectorKey() (connector, secretKey string) {
	switch t.kind {
	case flows.TriggerWebhook:
		return "webhook", webhookSecretKey
	case triggerSlackEvents:
		return "slack", slackSecretKey
	case triggerJiraIssue:
		return "jira", jiraSecretKey
	}
	return "", ""
}

// decodeHookTrigger reads the trigger of a stored definition. Only the trigger
// is decoded (the steps are the engine's business, which caches them). The
// details are the config's problems; a trigger with any must refuse requests.
func decodeHookTrigger(definition json.RawMessage) (hookTrigger, []Detail) {
	// Every webhook reads its flow's trigger: decoded once per definition
	// (a published version never changes; a draft is a new text).
	hookTriggers.mu.RLock()
	e, ok := hookTriggers.m[string(definition)]
	hookTriggers.mu.RUnlock()
	if ok {
		return e.t, e.problems
	}
	t, problems := decodeHookTriggerText(definition)
	hookTriggers.mu.Lock()
	if len(hookTriggers.m) >= hookTriggersMax {
		clear(hookTriggers.m)
	}
	hookTriggers.m[string(definition)] = hookTriggerEntry{t, problems}
	hookTriggers.mu.Unlock()
	return t, problems
}

// hookTriggers caches decodeHookTrigger by definition text.
var hookTriggers = struct {
	mu sync.RWMutex
	m  map[string]hookTriggerEntry
}{m: map[string]hookTriggerEntry{}}

type hookTriggerEntry struct {
	t        hookTrigger
	problems []Detail // read only
}

const hookTriggersMax = 1000

func decodeHookTriggerText(definition json.RawMessage) (hookTrigger, []Detail) {
	var d struct {
		Trigger flows.Trigger `json:"trigger"`
	}
	if err := json.Unmarshal(definition, &d); err != nil {
		return hookTrigger{}, []Detail{{Path: "trigger", Message: "cannot be read: " + err.Error()}}
	}
	return readHookTrigger(d.Trigger)
}

// readHookTrigger checks a trigger's config against the shapes documented at
// the top of this file and returns the settings with every problem found.
// Paths are relative to the definition ("trigger.config.connection").
func readHookTrigger(t flows.Trigger) (hookTrigger, []Detail) {
	h := hookTrigger{kind: t.Type, hasKeyExpr: strings.TrimSpace(t.IdempotencyKey) != ""}
	if h.kind == triggerWebhookIncoming {
		h.kind = flows.TriggerWebhook
	}
	var allowed []string
	switch h.kind {
	case flows.TriggerWebhook:
		allowed = []string{"signature", "signature_header", "connection"}
	case triggerSlackEvents, triggerJiraIssue:
		allowed = []string{"connection"}
	case triggerMailchimpList:
	default:
		return h, nil // not postable; other trigger types check their own config
	}
	var ps []Detail
	add := func(key, format string, args ...any) {
		path := "trigger.config"
		if key != "" {
			path += "." + key
		}
		ps = append(ps, Detail{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	keys := make([]string, 0, len(t.Config))
	for k := range t.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := t.Config[k]; {
		case slices.Contains(allowed, k):
		case v == nil || v == "":
			// Blank fields a form may send carry no setting.
		case k == "secret" || k == "signing_secret":
			// A secret here would be stored and shown in plain text.
			add(k, "secrets do not belong in the flow definition: store it in a connection and set trigger.config.connection to its id")
		default:
			add(k, "is not a setting of %s triggers", t.Type)
		}
	}
	str := func(key string) string {
		v, ok := t.Config[key]
		if !ok || v == nil {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			add(key, "must be text")
		}
		return strings.TrimSpace(s)
	}
	// connectionGiven is true when config.connection holds anything but
	// blank text, so that a bad value is reported as such rather than as
	// missing. Blank is the same as absent.
	connectionGiven := false
	if raw := str("connection"); raw != "" {
		connectionGiven = true
		id, err := uuid.Parse(raw)
		if err != nil || id == uuid.Nil {
			add("connection", "must be the id of a connection")
		}
		h.connection = id
	} else if v := t.Config["connection"]; v != nil {
		_, isText := v.(string)
		connectionGiven = !isText // str reported it
	}
	switch h.kind {
	case flows.TriggerWebhook:
		switch s := str("signature"); s {
		case webhook.SchemeNone, "none":
			if h.connection != uuid.Nil {
				add("signature", "is required with a connection: %s or %s", webhook.SchemeStandardWebhooks, webhook.SchemeHMACHeader)
			}
		case webhook.SchemeStandardWebhooks, webhook.SchemeHMACHeader:
			h.scheme = s
			if !connectionGiven {
				add("connection", "is required to check a signature: the id of a webhook connection holding secrets.%s", webhookSecretKey)
			}
		default:
			add("signature", "must be none, %s or %s", webhook.SchemeStandardWebhooks, webhook.SchemeHMACHeader)
		}
		// Only the header HMAC reads signature_header; a form may send its
		// default along with any scheme.
		h.header = str("signature_header")
		if h.header != "" && !validHeaderName(h.header) {
			add("signature_header", "must be an HTTP header name such as %s", webhook.DefaultSignatureHeader)
		}
	case triggerSlackEvents:
		if !connectionGiven {
			add("connection", "is required: the id of a Slack connection holding secrets.%s (Slack requests are always verified)", slackSecretKey)
		}
	}
	return h, ps
}

// validHeaderName accepts RFC 9110 token characters.
func validHeaderName(s string) bool {
	for _, r := range s {
		if r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return s != ""
}

// triggerProblems checks a definition's trigger config when a flow is saved:
// the shape, and that a named connection is one of the workspace's (conns,
// id → connector key, as store.WorkspaceConnections answers) of the right
// service. conns nil skips the connection check. Paths are relative to the
// definition, for problems.addDefinition.
func triggerProblems(t flows.Trigger, conns map[uuid.UUID]string) []Detail {
	h, ps := readHookTrigger(t)
	if conns == nil || h.connection == uuid.Nil {
		return ps
	}
	want, secret := h.connectorKey()
	switch have, ok := conns[h.connection]; {
	case !ok:
		ps = append(ps, Detail{Path: "trigger.config.connection", Message: fmt.Sprintf("unknown connection %q", h.connection)})
	case have != want:
		ps = append(ps, Detail{Path: "trigger.config.connection",
			Message: fmt.Sprintf("connection %s is a %s connection; this trigger needs a %s connection holding secrets.%s", h.connection, have, want, secret)})
	}
	return ps
}

// errTriggerMisconfigured refuses a request because the flow's trigger config
// cannot be honoured; problem says why (never a secret).
func errTriggerMisconfigured(problem string) *Error {
	return errorf(fiber.StatusInternalServerError, "trigger_misconfigured",
		"This flow's trigger is misconfigured, so the request was refused and nothing was stored: %s. The flow's owner must fix the trigger settings.", problem)
}

// misconfigured logs and builds the refusal of a request to a flow whose
// trigger config is broken.
func (a *app) misconfigured(c *fiber.Ctx, flow store.Flow, problem string) error {
	a.log.Warn("webhook refused: trigger misconfigured", "flow_id", flow.ID, "problem", problem, "request_id", requestID(c))
	return errTriggerMisconfigured(problem)
}

// errInvalidSignature is the 401 of a request that fails verification.
func errInvalidSignature(format string, args ...any) *Error {
	return errorf(fiber.StatusUnauthorized, "invalid_signature", format, args...)
}

// triggerSecret decrypts the trigger's secret from its connection.
func (a *app) triggerSecret(c *fiber.Ctx, flow store.Flow, t hookTrigger) (string, error) {
	want, key := t.connectorKey()
	if a.Sealer == nil {
		return "", a.misconfigured(c, flow, "this server has no secret key to open connections with")
	}
	conn, secrets, err := store.OpenConnection(c.UserContext(), a.Pool, a.Sealer, flow.WorkspaceID, t.connection)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", a.misconfigured(c, flow, fmt.Sprintf("trigger.config.connection: connection %s does not exist", t.connection))
	case errors.Is(err, store.ErrUnknownKey):
		return "", a.misconfigured(c, flow, fmt.Sprintf("trigger.config.connection: connection %s was sealed with a secret key this server does not have", t.connection))
	case err != nil:
		return "", err
	case conn.Connector != want:
		return "", a.misconfigured(c, flow, fmt.Sprintf("trigger.config.connection: connection %s is a %s connection, not %s", t.connection, conn.Connector, want))
	}
	secret := strings.TrimSpace(secrets[key])
	if secret == "" {
		return "", a.misconfigured(c, flow, fmt.Sprintf("trigger.config.connection: connection %s has no secrets.%s", t.connection, key))
	}
	return secret, nil
}

// verifyHook checks the request's signature as the trigger says. It returns
// nil when the trigger checks none.
func (a *app) verifyHook(c *fiber.Ctx, flow store.Flow, t hookTrigger, body []byte) error {
	if t.connection == uuid.Nil {
		if t.scheme != "" || t.kind == triggerSlackEvents {
			// readHookTrigger reports this; never let it mean "no check".
			return a.misconfigured(c, flow, "trigger.config.connection is required to check signatures")
		}
		return nil
	}
	secret, err := a.triggerSecret(c, flow, t)
	if err != nil {
		return err
	}
	header := requestHeader(c)
	now := time.Now()
	switch t.kind {
	case flows.TriggerWebhook:
		err := webhook.Verify(webhook.SignatureConfig{Scheme: t.scheme, Secret: secret, Header: t.header}, header, body, now)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, webhook.ErrConfig):
			return a.misconfigured(c, flow, "the connection's secret does not fit the "+t.scheme+" signature (a Standard Webhooks secret is whsec_ followed by base64)")
		case errors.Is(err, webhook.ErrMissingSignature) && t.scheme == webhook.SchemeStandardWebhooks:
			return errInvalidSignature("The request is not signed: this flow requires the webhook-id, webhook-timestamp and webhook-signature headers (Standard Webhooks).")
		case errors.Is(err, webhook.ErrMissingSignature):
			name := t.header
			if name == "" {
				name = webhook.DefaultSignatureHeader
			}
			return errInvalidSignature("The request is not signed: this flow requires an HMAC-SHA256 signature of the body in the %s header.", name)
		case errors.Is(err, webhook.ErrExpired):
			return errInvalidSignature("The request's webhook-timestamp is more than 5 minutes away from now; replays are refused.")
		default:
			return errInvalidSignature("The request's signature does not match its body.")
		}
	case triggerSlackEvents:
		err := slack.VerifyEvent(secret, header, body, now)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, slack.ErrMissingSignature):
			return errInvalidSignature("The request is not signed: Slack requests carry X-Slack-Signature and X-Slack-Request-Timestamp.")
		case errors.Is(err, slack.ErrExpiredTimestamp):
			return errInvalidSignature("The request's X-Slack-Request-Timestamp is more than 5 minutes away from now; replays are refused.")
		default:
			return errInvalidSignature("The request's X-Slack-Signature does not match its body and timestamp.")
		}
	case triggerJiraIssue:
		err := jira.VerifySignature(secret, header, body)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, jira.ErrMissingSignature):
			return errInvalidSignature("The request is not signed: this flow's Jira webhook has a secret, so deliveries carry X-Hub-Signature.")
		default:
			return errInvalidSignature("The request's X-Hub-Signature does not match its body.")
		}
	}
	return a.misconfigured(c, flow, "trigger "+t.kind+" cannot check signatures")
}

// requestHeader copies the request headers for the verifiers.
func requestHeader(c *fiber.Ctx) http.Header {
	h := http.Header{}
	c.Request().Header.VisitAll(func(k, v []byte) {
		h.Add(string(k), string(v))
	})
	return h
}

// hookPayload turns the body into the trigger payload for the trigger type:
// Mailchimp's PHP-style forms become nested objects; everything else goes by
// content type (parseHookBody).
func hookPayload(t hookTrigger, contentType string, body []byte) (any, string, error) {
	if t.kind == triggerMailchimpList {
		mt, _, _ := mime.ParseMediaType(contentType)
		if mt == "application/x-www-form-urlencoded" || (mt == "" && len(body) > 0 && !json.Valid(body)) {
			vals, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, "", errorf(fiber.StatusBadRequest, "invalid_form", "The form body cannot be parsed: %s.", err)
			}
			return mailchimp.ParseWebhookForm(vals), "application/x-www-form-urlencoded", nil
		}
	}
	return parseHookBody(contentType, body)
}

// defaultIdempotencyKey is the delivery id the sender repeats on retries,
// used when neither the request nor the trigger's expression gives a key.
func defaultIdempotencyKey(t hookTrigger, c *fiber.Ctx, payload any) string {
	switch t.kind {
	case flows.TriggerWebhook:
		if t.scheme == webhook.SchemeStandardWebhooks {
			return strings.TrimSpace(c.Get("webhook-id"))
		}
	case triggerSlackEvents:
		if m, ok := payload.(map[string]any); ok {
			if id, ok := m["event_id"].(string); ok {
				return strings.TrimSpace(id)
			}
		}
	case triggerJiraIssue:
		return strings.TrimSpace(c.Get("X-Atlassian-Webhook-Identifier"))
	}
	return ""
}

// ingestValidate answers GET /hooks/:token: 200 for a Mailchimp list webhook
// flow (Mailchimp checks the URL with a GET before it saves the webhook), 405
// for other webhook flows, 404 for unknown or disabled ones (a disabled flow
// whose editor listens for a test event answers as its draft's trigger says).
func (a *app) ingestValidate(c *fiber.Ctx) error {
	flow, err := a.hookFlow(c)
	if err != nil {
		return err
	}
	def := flow.Definition
	if !flow.Enabled {
		if def, err = a.listenDefinition(c, flow); err != nil {
			return err
		}
	}
	t, _ := decodeHookTrigger(def)
	switch {
	case t.kind == triggerMailchimpList:
		return c.JSON(fiber.Map{"ok": true})
	case t.postable():
		c.Set(fiber.HeaderAllow, fiber.MethodPost)
		return errorf(fiber.StatusMethodNotAllowed, "method_not_allowed", "This webhook URL accepts POST only.")
	}
	return errNotWebhookFlow(t.kind)
}

func errNotWebhookFlow(kind string) *Error {
	return errorf(fiber.StatusNotFound, "not_found", "This flow is not triggered by webhooks (its trigger is %q).", kind)
}
