package handlers

import (
	"encoding/json"
	"errors"
	"mime"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/switchboard/switchboard/connectors/slack"
	"github.com/switchboard/switchboard/jobs"
	"github.com/switchboard/switchboard/store"
)

// ingest accepts a webhook: the event, its run and the first steps' jobs are
// committed before the 202. The flow's trigger type decides how the request
// is verified and read (handlers/triggers.go); a request that fails its
// signature check stores nothing.
func (a *app) ingest(c *fiber.Ctx) error {
	ctx := c.UserContext()
	flow, err := a.hookFlow(c)
	if err != nil {
		return err
	}
	trigger, problems := decodeHookTrigger(flow.Definition)
	if !trigger.postable() {
		return errNotWebhookFlow(trigger.kind)
	}
	if len(problems) > 0 {
		return a.misconfigured(c, flow, problems[0].Path+" "+problems[0].Message)
	}
	body := c.Body()
	if int64(len(body)) > a.MaxBody {
		return errorf(fiber.StatusRequestEntityTooLarge, "body_too_large", "The body is %d bytes; this server accepts at most %d.", len(body), a.MaxBody)
	}
	// Verify over the exact raw bytes before reading anything from them.
	if err := a.verifyHook(c, flow, trigger, body); err != nil {
		return err
	}
	if trigger.kind == triggerSlackEvents {
		if challenge, ok := slack.URLVerification(body); ok {
			return c.JSON(fiber.Map{"challenge": challenge})
		}
	}
	payload, ct, err := hookPayload(trigger, c.Get(fiber.HeaderContentType), body)
	if err != nil {
		return err
	}
	key := strings.TrimSpace(c.Get("Idempotency-Key"))
	if key == "" && !trigger.hasKeyExpr {
		key = defaultIdempotencyKey(trigger, c, payload)
	}
	acc, err := a.Engine.Accept(ctx, jobs.Incoming{
		Flow: flow, Source: "webhook", ContentType: ct, Headers: hookHeaders(c), Payload: payload,
		IdempotencyKey: key,
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
	resp := fiber.Map{"event_id": acc.EventID, "run_id": acc.RunID}
	if acc.Filtered {
		resp["filtered"] = true
	}
	if acc.Duplicate {
		resp["duplicate"] = true
	}
	return c.Status(status).JSON(resp)
}

// hookFlow finds the enabled flow of the URL's token.
func (a *app) hookFlow(c *fiber.Ctx) (store.Flow, error) {
	flow, err := store.FlowByWebhookToken(c.UserContext(), a.Pool, c.Params("token"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !flow.Enabled) {
		return store.Flow{}, errorf(fiber.StatusNotFound, "not_found", "No enabled flow listens at this URL.")
	}
	return flow, err
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
	out := map[string]any{}
	for k, v := range c.GetReqHeaders() {
		k = strings.ToLower(k)
		switch k {
		case "authorization", "proxy-authorization", "cookie", "x-csrf-token":
			continue
		}
		if len(v) == 1 {
			out[k] = v[0]
		} else {
			out[k] = strings.Join(v, ", ")
		}
	}
	return out
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error() + " at byte " + strconv.FormatInt(se.Offset, 10)
	}
	return err.Error()
}
