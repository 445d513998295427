package handlers

import (
	"encoding/json"
	"errors"
	"mime"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/switchboard/switchboard/connectors/slack"
	"github.com/switchboard/switchboard/jobs"
	"github.com/switchboard/switchboard/store"
)

// ingest accepts a webhook: the event, its run and the first steps' jobs are
// committed before the 202. The flow's trigger type decides how the request
// is verified and read (handlers/triggers.go); a request that fails its
// signature check stores nothing. While the editor listens for a test event
// the request also becomes the flow's sample (ingestListening).
func (a *app) ingest(c *fiber.Ctx) error {
	flow, err := a.hookFlow(c)
	if err != nil {
		return err
	}
	if listening(flow, time.Now()) {
		return a.ingestListening(c, flow)
	}
	req, err := a.readHook(c, flow, flow.Definition)
	if err != nil {
		return err
	}
	return a.accept(c, flow, req)
}

// hookRequest is a verified webhook request, read as its trigger says.
type hookRequest struct {
	trigger     hookTrigger
	payload     any
	contentType string
	// raw is the JSON body the payload was parsed from, if it was.
	raw []byte
	// challenge is set for Slack's url_verification, which is answered and
	// never stored.
	challenge   string
	isChallenge bool
}

// readHook checks the request against the trigger of definition (the
// published version's, or the draft's while listening) and reads its body.
func (a *app) readHook(c *fiber.Ctx, flow store.Flow, definition json.RawMessage) (hookRequest, error) {
	trigger, problems := decodeHookTrigger(definition)
	if !trigger.postable() {
		return hookRequest{}, errNotWebhookFlow(trigger.kind)
	}
	if len(problems) > 0 {
		return hookRequest{}, a.misconfigured(c, flow, problems[0].Path+" "+problems[0].Message)
	}
	body := c.Body()
	if int64(len(body)) > a.MaxBody {
		return hookRequest{}, errorf(fiber.StatusRequestEntityTooLarge, "body_too_large", "The body is %d bytes; this server accepts at most %d.", len(body), a.MaxBody)
	}
	// Verify over the exact raw bytes before reading anything from them.
	if err := a.verifyHook(c, flow, trigger, body); err != nil {
		return hookRequest{}, err
	}
	if trigger.kind == triggerSlackEvents {
		if challenge, ok := slack.URLVerification(body); ok {
			return hookRequest{trigger: trigger, challenge: challenge, isChallenge: true}, nil
		}
	}
	payload, ct, err := hookPayload(trigger, c.Get(fiber.HeaderContentType), body)
	if err != nil {
		return hookRequest{}, err
	}
	req := hookRequest{trigger: trigger, payload: payload, contentType: ct}
	if (ct == "application/json" || strings.HasSuffix(ct, "+json")) && payload != nil {
		req.raw = body // stored as sent (the engine checks it can be); valid while the handler waits
	}
	return req, nil
}

// accept starts the flow's run for a request read by readHook.
func (a *app) accept(c *fiber.Ctx, flow store.Flow, req hookRequest) error {
	if req.isChallenge {
		return c.JSON(fiber.Map{"challenge": req.challenge})
	}
	key := strings.TrimSpace(c.Get("Idempotency-Key"))
	if key == "" && !req.trigger.hasKeyExpr {
		key = defaultIdempotencyKey(req.trigger, c, req.payload)
	}
	acc, err := a.Engine.Accept(c.UserContext(), jobs.Incoming{
		Flow: flow, Source: "webhook", ContentType: req.contentType, Headers: hookHeaders(c), Payload: req.payload,
		RawPayload: req.raw, IdempotencyKey: key,
	})
	var te *jobs.TriggerError
	if errors.As(err, &te) {
		return errorf(fiber.StatusUnprocessableEntity, "trigger_error", "The flow's trigger could not evaluate this event: %s", te.Err)
	}
	if err != nil {
		return err
	}
	status := fiber.StatusAccepted
	if acc.Duplicate {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(hookAnswer{EventID: acc.EventID, RunID: acc.RunID, Filtered: acc.Filtered, Duplicate: acc.Duplicate})
}

// hookAnswer is the body of a webhook's 202 (or 200 for a repeat).
type hookAnswer struct {
	EventID   uuid.UUID  `json:"event_id"`
	RunID     *uuid.UUID `json:"run_id"`
	Filtered  bool       `json:"filtered,omitempty"`
	Duplicate bool       `json:"duplicate,omitempty"`
}

// hookFlow finds the flow of the URL's token: an enabled one, or a disabled
// one whose editor is listening for a test event.
func (a *app) hookFlow(c *fiber.Ctx) (store.Flow, error) {
	flow, err := a.hooks.Flow(c.UserContext(), c.Params("token"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !flow.Enabled && !listening(flow, time.Now())) {
		return store.Flow{}, errNoHookFlow()
	}
	return flow, err
}

func errNoHookFlow() *Error {
	return errorf(fiber.StatusNotFound, "not_found", "No enabled flow listens at this URL.")
}

// listening reports whether the flow's editor waits for a test event.
func listening(f store.Flow, now time.Time) bool {
	return f.ListenUntil != nil && f.ListenUntil.After(now)
}

// ingestListening handles a request while the editor listens for a test
// event (handlers/editor_listen.go). The request is verified and read as the
// trigger being edited says (the draft's, else the published one's) and kept
// as the flow's sample with its headers; listening stops. A disabled flow
// answers 200 and runs nothing. An enabled flow then runs as usual, checked
// against its published trigger: when the draft's trigger refuses the request
// it is not captured, but still runs if the published trigger accepts it.
func (a *app) ingestListening(c *fiber.Ctx, flow store.Flow) error {
	def, err := a.listenDefinition(c, flow)
	if err != nil {
		return err
	}
	sample, serr := a.readHook(c, flow, def)
	if !flow.Enabled {
		if serr != nil {
			return serr
		}
		if sample.isChallenge {
			return c.JSON(fiber.Map{"challenge": sample.challenge})
		}
		captured, err := a.captureSample(c, flow, sample)
		if err != nil {
			return err
		}
		if !captured { // listening ended meanwhile, or another request was first
			return errNoHookFlow()
		}
		return c.JSON(fiber.Map{"sample": true, "message": "Captured as the flow's test event."})
	}
	req, err := sample, serr
	if !sameTrigger(def, flow.Definition) {
		req, err = a.readHook(c, flow, flow.Definition)
	}
	if err != nil {
		return err
	}
	if serr == nil && !sample.isChallenge {
		if _, err := a.captureSample(c, flow, sample); err != nil {
			return err
		}
	}
	return a.accept(c, flow, req)
}

// listenDefinition is the definition whose trigger reads test events: the
// draft being edited, else the published version.
func (a *app) listenDefinition(c *fiber.Ctx, flow store.Flow) (json.RawMessage, error) {
	draft, _, err := store.FlowDraftAndSample(c.UserContext(), a.Pool, flow.WorkspaceID, flow.ID)
	if err != nil || draft == nil {
		return flow.Definition, err
	}
	return draft, nil
}

// captureSample stores the request as the flow's sample event if the flow
// still listens.
func (a *app) captureSample(c *fiber.Ctx, flow store.Flow, req hookRequest) (bool, error) {
	payload, err := json.Marshal(req.payload)
	if err != nil {
		return false, err
	}
	headers, err := json.Marshal(hookHeaders(c))
	if err != nil {
		return false, err
	}
	ok, err := store.CaptureSample(c.UserContext(), a.Pool, flow.WorkspaceID, flow.ID, payload, headers)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "22P05" { // untranslatable_character: \u0000 in jsonb
		return false, jobs.ErrNULPayload
	}
	return ok, err
}

// sameTrigger reports whether two definitions have the same trigger.
func sameTrigger(a, b json.RawMessage) bool {
	var da, db struct {
		Trigger any `json:"trigger"`
	}
	if json.Unmarshal(a, &da) != nil || json.Unmarshal(b, &db) != nil {
		return false
	}
	return reflect.DeepEqual(da.Trigger, db.Trigger)
}

// parseHookBody turns a webhook body into the trigger payload by content type:
// JSON as JSON, forms as objects, text as a string.
func parseHookBody(contentType string, body []byte) (any, string, error) {
	mt := ""
	if contentType != "" {
		var err error
		mt, _, err = mime.ParseMediaType(contentType)
		if err != nil {
			return nil, "", errorf(fiber.StatusUnsupportedMediaType, "unsupported_media_type", "The Content-Type %q cannot be parsed.", contentType)
		}
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		if len(strings.TrimSpace(string(body))) == 0 {
			return nil, mt, nil
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, "", errorf(fiber.StatusBadRequest, "invalid_json", "The body is not valid JSON: %s.", jsonErrorText(err))
		}
		return v, mt, nil
	case mt == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, "", errorf(fiber.StatusBadRequest, "invalid_form", "The form body cannot be parsed: %s.", err)
		}
		return formObject(vals), mt, nil
	case mt == "":
		if len(body) == 0 {
			return nil, "", nil
		}
		var v any
		if json.Unmarshal(body, &v) == nil {
			return v, "application/json", nil
		}
		return string(body), "text/plain", nil
	case strings.HasPrefix(mt, "text/") || mt == "application/xml":
		return string(body), mt, nil
	default:
		return nil, "", errorf(fiber.StatusUnsupportedMediaType, "unsupported_media_type",
			"Content-Type %s is not supported; send JSON, a URL-encoded form, or text.", mt)
	}
}

func formObject(vals url.Values) map[string]any {
	out := make(map[string]any, len(vals))
	for k, vs := range vals {
		if len(vs) == 1 {
			out[k] = vs[0]
			continue
		}
		list := make([]any, len(vs))
		for i, v := range vs {
			list[i] = v
		}
		out[k] = list
	}
	return out
}

// hookHeaders are the request headers a flow may read, lower-cased; credentials
// and cookies are dropped so they never reach the database.
func hookHeaders(c *fiber.Ctx) map[string]any {
	out := make(map[string]any, 16)
	c.Request().Header.VisitAll(func(key, value []byte) {
		k := strings.ToLower(string(key))
		switch k {
		case "authorization", "proxy-authorization", "cookie", "x-csrf-token":
			return
		}
		if prev, ok := out[k].(string); ok { // a repeated header: one value, as HTTP folds them
			out[k] = prev + ", " + string(value)
		} else {
			out[k] = string(value)
		}
	})
	return out
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error() + " at byte " + strconv.FormatInt(se.Offset, 10)
	}
	return err.Error()
}
