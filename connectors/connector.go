package connectors

import (
	"context"
	"net/http"
	"time"
)

// FieldType is how a field is entered and validated.
type FieldType string

// Field types known to the API validator and the UI form builder.
const (
	FieldString   FieldType = "string" // one line of text (templates allowed)
	FieldText     FieldType = "text"   // multi-line text
	FieldNumber   FieldType = "number" // a number
	FieldBool     FieldType = "bool"   // true/false
	FieldSelect   FieldType = "select" // one of Enum
	FieldJSON     FieldType = "json"   // any JSON value (object, array)
	FieldKeyValue FieldType = "kv"     // object of string → string
	FieldList     FieldType = "list"   // array of strings
	FieldSecret   FieldType = "secret" // a secret (connection auth only); never echoed
)

// Field describes one input of a connection, action or trigger.
type Field struct {
	Key      string    `json:"key"`
	Label    string    `json:"label"`
	Type     FieldType `json:"type"`
	Required bool      `json:"required,omitempty"`
	Secret   bool      `json:"secret,omitempty"`
	Help     string    `json:"help,omitempty"`
	Enum     []string  `json:"enum,omitempty"`
	Default  any       `json:"default,omitempty"`
	Example  any       `json:"example,omitempty"`
}

// Connection is a decrypted connection handed to an action at execution time.
// Config holds plain settings (base_url, host…); Secrets holds decrypted secrets.
// Neither may be logged, returned in errors or stored in outputs.
type Connection struct {
	ID      string
	Config  map[string]any
	Secrets map[string]string
}

// Request is one execution of an action.
type Request struct {
	// Input is the step's rendered input.
	Input map[string]any
	// Connection is nil for actions that need none.
	Connection *Connection
	// IdempotencyKey is stable across retries of the same step of the same run
	// (run id + step id); pass it to the API wherever the API takes one.
	IdempotencyKey string
	// HTTP is the shared egress-guarded client; connectors never build their own.
	HTTP *http.Client
}

// ActionSpec describes an action: its key ("slack.post_message"), name, fields
// and the names of its outputs.
type ActionSpec struct {
	Key         string  `json:"key"`
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Fields      []Field `json:"fields"`
	Outputs     []Field `json:"outputs,omitempty"`
	// NoConnection is true for actions that run without a connection (http.request, core.*).
	NoConnection bool `json:"no_connection,omitempty"`
}

// Action is an executable action.
type Action interface {
	Spec() ActionSpec
	// Execute performs the action. It returns the step output (JSON-encodable) or
	// an error: *PermanentError (no retry), *RateLimitedError (retry after), or any
	// other error (retried with backoff).
	Execute(ctx context.Context, req Request) (map[string]any, error)
}

// TriggerSpec describes an inbound trigger a connector offers.
type TriggerSpec struct {
	Key         string  `json:"key"`
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Fields      []Field `json:"fields,omitempty"`
}

// Connector is one service.
type Connector interface {
	Key() string
	Name() string
	AuthFields() []Field
	Actions() []Action
	Triggers() []TriggerSpec
}

// Tester is implemented by connectors that can check a connection ("test
// connection" in the UI): Slack auth.test, Mailchimp GET /ping, Jira /myself.
type Tester interface {
	TestConnection(ctx context.Context, conn *Connection, client *http.Client) error
}

// PermanentError fails a step at once, without retries.
type PermanentError struct {
	Status  int // HTTP status when there was one
	Message string
}

func (e *PermanentError) Error() string { return e.Message }

// RateLimitedError asks for a retry after RetryAfter.
type RateLimitedError struct {
	RetryAfter time.Duration
	Message    string
}

func (e *RateLimitedError) Error() string { return e.Message }

// Permanent returns a *PermanentError.
func Permanent(status int, msg string) error { return &PermanentError{Status: status, Message: msg} }

// RateLimited returns a *RateLimitedError.
func RateLimited(after time.Duration, msg string) error {
	return &RateLimitedError{RetryAfter: after, Message: msg}
}
