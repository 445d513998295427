package flows

import "time"

// Trigger types every installation knows. Other trigger types are connector
// trigger keys such as "slack.events" and are checked against the catalog.
const (
	TriggerWebhook  = "webhook"
	TriggerManual   = "manual"
	TriggerSchedule = "schedule"
	TriggerEvent    = "event"
)

// Control-flow actions of the core connector. They are steps like any other
// in a definition; the engine, not an outside API, carries them out.
const (
	ActionDelay        = "core.delay"
	ActionWaitForEvent = "core.wait_for_event"
	ActionApproval     = "core.approval"
)

// Limits and defaults of a definition.
const (
	// MaxSteps is the largest number of steps a flow may have.
	MaxSteps = 100
	// MaxAttempts is the largest retry.max_attempts a step may ask for.
	MaxAttempts = 25
	// DefaultTimeout is a step attempt's timeout when the step sets none.
	DefaultTimeout = 30 * time.Second
	// MaxTimeout is the longest timeout a step attempt may ask for. It stays
	// below the workers' stuck-job rescue threshold, so a slow attempt is never
	// taken for a crashed one and run twice.
	MaxTimeout = 5 * time.Minute
	// MaxRetryInterval is the longest retry interval a step may ask for.
	MaxRetryInterval = 24 * time.Hour
	// MaxBatchWindow is the longest window a batching trigger may collect for.
	MaxBatchWindow = 24 * time.Hour
	// MaxBatchSize is the largest batch.max a trigger may ask for.
	MaxBatchSize = 10000
)

// DefaultRetry is the retry policy of a step that sets none: 6 attempts,
// exponential backoff from 5s, capped at 1h. A step's retry object only
// needs the fields it changes; [Step.RetryPolicy] fills in the rest.
var DefaultRetry = RetryPolicy{
	MaxAttempts:     6,
	InitialInterval: Duration(5 * time.Second),
	MaxInterval:     Duration(time.Hour),
}

// Definition is a flow: one trigger and the steps it starts. It is stored as
// JSON; use [Decode] to read it strictly and [Validate] to check it.
type Definition struct {
	Trigger Trigger `json:"trigger"`
	Steps   []Step  `json:"steps"`
}

// Step returns the step with the given id.
func (d *Definition) Step(id string) (*Step, bool) {
	for i := range d.Steps {
		if d.Steps[i].ID == id {
			return &d.Steps[i], true
		}
	}
	return nil, false
}

// Trigger says what starts a run of the flow.
type Trigger struct {
	// Type is "webhook", "manual", "schedule", "event", or a connector
	// trigger key such as "slack.events".
	Type string `json:"type"`
	// If is an expression over trigger and headers; when it is false the
	// event is accepted but starts no run.
	If string `json:"if,omitempty"`
	// IdempotencyKey is an expression over trigger and headers whose value
	// identifies repeated deliveries of the same event.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// Batch, when set, collects events for a window into one run.
	Batch *Batch `json:"batch,omitempty"`
	// Config holds trigger-specific settings, for example a webhook's
	// signature check or a schedule's cron expression.
	Config map[string]any `json:"config,omitempty"`
	// Sample is an example payload the editor offers in its data picker.
	Sample any `json:"sample,omitempty"`
}

// Batch collects events into one run: the run starts when Window has passed
// since the first event, or when Max events have arrived (0 = no maximum).
type Batch struct {
	Window Duration `json:"window,omitempty"`
	Max    int      `json:"max,omitempty"`
}

// Step is one action of a flow.
type Step struct {
	// ID names the step: [a-z][a-z0-9_]*, unique in the flow. Expressions
	// read its output as steps.<id>.
	ID string `json:"id"`
	// Name is an optional label for the editor.
	Name string `json:"name,omitempty"`
	// Action is a catalog key, "connector.action".
	Action string `json:"action"`
	// Connection is the id of the connection (credentials) the action uses.
	Connection string `json:"connection,omitempty"`
	// Needs lists the steps that must finish before this one. Nil (omitted)
	// means the previous step in the list, or the trigger for the first
	// step; an empty list means right after the trigger. See [ResolvedNeeds].
	Needs *[]string `json:"needs,omitempty"`
	// If is an optional condition; the step is skipped when it is false.
	If string `json:"if,omitempty"`
	// Retry overrides fields of [DefaultRetry].
	Retry *RetryPolicy `json:"retry,omitempty"`
	// Timeout bounds one attempt; zero means [DefaultTimeout].
	Timeout Duration `json:"timeout,omitempty"`
	// Input is the action's input. Strings in it may hold {{ expr }}
	// templates, at any depth.
	Input map[string]any `json:"input,omitempty"`
	// Undo is the compensating action run when the run fails for good after
	// this step succeeded.
	Undo *Undo `json:"undo,omitempty"`
}

// RetryPolicy says how often and how patiently a failing step is retried.
// Zero fields take their value from [DefaultRetry].
type RetryPolicy struct {
	MaxAttempts     int      `json:"max_attempts,omitempty"`
	InitialInterval Duration `json:"initial_interval,omitempty"`
	MaxInterval     Duration `json:"max_interval,omitempty"`
}

// Undo is a step's compensating action. Its input templates may read self,
// the step's own output.
type Undo struct {
	Action     string         `json:"action"`
	Connection string         `json:"connection,omitempty"`
	Input      map[string]any `json:"input,omitempty"`
}

// RetryPolicy returns the step's retry policy with defaults applied.
func (s Step) RetryPolicy() RetryPolicy {
	var p RetryPolicy
	if s.Retry != nil {
		p = *s.Retry
	}
	return p.withDefaults()
}

// AttemptTimeout returns the step's per-attempt timeout, [DefaultTimeout]
// when it sets none.
func (s Step) AttemptTimeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultTimeout
	}
	return time.Duration(s.Timeout)
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultRetry.MaxAttempts
	}
	if p.InitialInterval <= 0 {
		p.InitialInterval = DefaultRetry.InitialInterval
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = DefaultRetry.MaxInterval
	}
	return p
}

// Backoff returns how long to wait before retrying after the given failed
// attempt (1 for the first). The wait doubles from the policy's initial
// interval, is capped at its max interval, and is spread by ±20% using rnd,
// which returns values in [0, 1) (math/rand.Float64 will do); a nil rnd
// means no jitter. The result never exceeds the max interval. Zero policy
// fields take their [DefaultRetry] value.
func Backoff(policy RetryPolicy, attempt int, rnd func() float64) time.Duration {
	p := policy.withDefaults()
	maxWait := time.Duration(p.MaxInterval)
	d := time.Duration(p.InitialInterval)
	for i := 1; i < attempt && d < maxWait; i++ {
		if d > maxWait/2 {
			d = maxWait
			break
		}
		d *= 2
	}
	if d > maxWait {
		d = maxWait
	}
	if rnd != nil {
		d = time.Duration(float64(d) * (0.8 + 0.4*rnd()))
	}
	if d > maxWait {
		d = maxWait
	}
	return d
}
