package mixpanel

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/connectors"
)

// trackAction is mixpanel.track.
type trackAction struct{}

func (trackAction) Spec() connectors.ActionSpec {
	return connectors.ActionSpec{
		Key:         "mixpanel.track",
		Name:        "Track event",
		Description: "Import an event into Mixpanel. Retries reuse the same $insert_id, so Mixpanel keeps one event.",
		Fields: []connectors.Field{
			{
				Key:      "distinct_id",
				Label:    "Distinct ID",
				Type:     connectors.FieldString,
				Required: true,
				Help:     "The ID of the user who did the event.",
				Example:  "{{ trigger.user.id }}",
			},
			{
				Key:      "event",
				Label:    "Event",
				Type:     connectors.FieldString,
				Required: true,
				Help:     "The name of the event.",
				Example:  "Signed Up",
			},
			{
				Key:     "properties",
				Label:   "Properties",
				Type:    connectors.FieldJSON,
				Help:    "A JSON object of extra facts about the event.",
				Example: map[string]any{"plan": "pro"},
			},
			{
				Key:   "time",
				Label: "Time",
				Type:  connectors.FieldString,
				Help: "When the event happened: RFC 3339, or seconds or milliseconds since the epoch. Default: now. " +
					"Mixpanel deduplicates on event, distinct_id, time and $insert_id together, so set it (for example from the trigger) " +
					"when a retry that happens later must still count once.",
				Example: "{{ trigger.created_at }}",
			},
		},
		Outputs: []connectors.Field{
			{Key: "insert_id", Label: "Insert ID", Type: connectors.FieldString, Help: "The $insert_id sent, derived from the step's idempotency key."},
			{Key: "num_records_imported", Label: "Records imported", Type: connectors.FieldNumber, Help: "What Mixpanel reported: 1 when the event was imported."},
			{Key: "status", Label: "Status", Type: connectors.FieldString, Help: `Mixpanel's status ("OK").`},
		},
	}
}

// event is one element of an /import body.
type event struct {
	Event      string         `json:"event"`
	Properties map[string]any `json:"properties"`
}

func (trackAction) Execute(ctx context.Context, req connectors.Request) (map[string]any, error) {
	distinctID, err := connectors.InputString(req.Input, "distinct_id")
	if err != nil {
		return nil, err
	}
	name, err := connectors.InputString(req.Input, "event")
	if err != nil {
		return nil, err
	}
	props, err := connectors.InputMap(req.Input, "properties")
	if err != nil {
		return nil, err
	}
	at, err := eventTime(req.Input["time"], time.Now())
	if err != nil {
		return nil, err
	}
	token, err := connectors.RequireSecret(req.Connection, "mixpanel", "project_token")
	if err != nil {
		return nil, err
	}

	insertID := InsertID(req.IdempotencyKey)
	p := make(map[string]any, len(props)+5)
	for k, v := range props {
		p[k] = v
	}
	p["token"] = token
	p["distinct_id"] = distinctID
	p["time"] = at.UnixMilli()
	p["$insert_id"] = insertID
	p["mp_lib"] = "switchboard"

	// strict=1 makes /import validate every event and answer 400 with the
	// failed records rather than silently dropping them.
	url := connectors.BaseURL(req.Connection, DefaultBaseURL) + "/import?strict=1&verbose=1"
	hreq, err := connectors.NewJSONRequest(ctx, http.MethodPost, url, []event{{Event: name, Properties: p}})
	if err != nil {
		return nil, err
	}
	// The project token as Basic-auth user name with an empty password.
	hreq.SetBasicAuth(token, "")

	resp, err := connectors.DoHTTP(req.HTTP, "mixpanel", hreq)
	if err != nil {
		return nil, err
	}
	var body importResponse
	_ = json.Unmarshal(resp.Body, &body)
	if err := responseError(resp, &body); err != nil {
		return nil, err
	}
	status := "OK"
	if body.Status != nil {
		status = fmt.Sprint(body.Status)
	}
	return map[string]any{
		"insert_id":            insertID,
		"num_records_imported": body.NumRecordsImported,
		"status":               status,
	}, nil
}

// InsertID returns the $insert_id sent for an idempotency key. Mixpanel
// accepts at most 36 characters of letters, digits and '-', so the key is
// hashed: the first 32 hex digits of its SHA-256, the same on every retry. An
// empty key (a one-off test run) gets a random ID.
func InsertID(idempotencyKey string) string {
	if idempotencyKey == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}
	sum := sha256.Sum256([]byte(idempotencyKey))
	return hex.EncodeToString(sum[:16])
}

// eventTime reads the time input: absent or "" is now; a number or numeric
// string is seconds since the epoch, or milliseconds when it is too large to be
// seconds; otherwise RFC 3339.
func eventTime(v any, now time.Time) (time.Time, error) {
	bad := connectors.InvalidInput("time", "must be an RFC 3339 time or seconds or milliseconds since the epoch")
	var n float64
	switch x := v.(type) {
	case nil:
		return now, nil
	case float64:
		n = x
	case int:
		n = float64(x)
	case int64:
		n = float64(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return time.Time{}, bad
		}
		n = f
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return now, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			n = f
			break
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, bad
		}
		return t, nil
	default:
		return time.Time{}, bad
	}
	if math.IsNaN(n) || math.IsInf(n, 0) || n <= 0 {
		return time.Time{}, bad
	}
	if n >= 1e11 { // later than 5138 in seconds: must be milliseconds
		return time.UnixMilli(int64(n)), nil
	}
	return time.UnixMilli(int64(n * 1000)), nil
}

// importResponse is the body of every /import answer.
type importResponse struct {
	Code               int            `json:"code"`
	Status             any            `json:"status"`
	Error              string         `json:"error"`
	NumRecordsImported int            `json:"num_records_imported"`
	FailedRecords      []failedRecord `json:"failed_records"`
}

type failedRecord struct {
	Index    int    `json:"index"`
	InsertID string `json:"insert_id"`
	Field    string `json:"field"`
	Message  string `json:"message"`
}

// responseError maps an /import answer: 200 imported; 400 validation failed
// (with failed_records); 401 bad credentials; 413 too large; 429 rate limited;
// 5xx retry.
func responseError(resp *connectors.HTTPResponse, body *importResponse) error {
	if resp.Status < 300 {
		return nil
	}
	status := fmt.Sprintf("%d %s", resp.Status, http.StatusText(resp.Status))
	detail := body.Error
	if len(body.FailedRecords) > 0 {
		fr := body.FailedRecords[0]
		if fr.Message != "" {
			detail = fr.Message
		} else if fr.Field != "" {
			detail += ": " + fr.Field
		}
	}
	if detail == "" {
		detail = connectors.BodySnippet(resp.Body, 300)
	}
	var msg string
	switch resp.Status {
	case http.StatusBadRequest:
		msg = "mixpanel: event rejected (" + status + ")"
	case http.StatusUnauthorized, http.StatusForbidden:
		msg = "mixpanel: project token rejected (" + status + ")"
	case http.StatusRequestEntityTooLarge:
		msg = "mixpanel: event too large (" + status + ")"
	case http.StatusTooManyRequests:
		msg = "mixpanel: rate limited (" + status + ")"
	default:
		msg = "mixpanel: " + status
	}
	if detail != "" {
		msg += ": " + detail
	}
	after := connectors.RetryAfter(resp.Header, 0)
	if resp.Status == http.StatusTooManyRequests && after == 0 {
		// Mixpanel sends no Retry-After; its limits are per rolling minute.
		after = time.Minute
	}
	return connectors.ClassifyHTTP(resp.Status, after, msg)
}
