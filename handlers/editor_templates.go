package handlers

import (
	"encoding/json"
	"strings"

	"github.com/switchboard/switchboard/flows"
	"github.com/switchboard/switchboard/store"
)

// flowTemplate is a starting point for a new flow, taken from the scenarios
// the product exists for (SCENARIOS.md). Connections are written <slack>,
// <mailchimp>, …; a new flow gets the workspace's first connection of that
// connector, or none.
type flowTemplate struct {
	Key         string
	Name        string
	Description string
	Definition  string
	Sample      string
}

var flowTemplates = []flowTemplate{
	{
		Key:         "signup_fanout",
		Name:        "Signup fan-out",
		Description: "A signup event tracked in Segment, subscribed in Mailchimp and announced in Slack, in parallel; enterprise signups also get a Jira onboarding ticket.",
		Definition: `{"trigger": {"type": "webhook", "idempotency_key": "trigger.event_id"},
 "steps": [
  {"id": "track", "action": "segment.track", "connection": "<segment>", "needs": [],
   "input": {"user_id": "{{ trigger.user.id }}", "event": "{{ trigger.type == 'signup' ? 'Signed Up' : 'Logged In' }}",
             "properties": {"plan": "{{ trigger.user.plan }}"}}},
  {"id": "subscribe", "action": "mailchimp.upsert_member", "connection": "<mailchimp>", "needs": [],
   "if": "trigger.type == 'signup'",
   "input": {"list_id": "a1b2c3", "email": "{{ trigger.user.email }}", "merge_fields": {"FNAME": "{{ trigger.user.first_name }}"}}},
  {"id": "announce", "action": "slack.post_message", "connection": "<slack>", "needs": [],
   "if": "trigger.type == 'signup'",
   "input": {"channel": "#signups", "text": "New {{ trigger.user.plan }} signup: {{ trigger.user.email }}"}},
  {"id": "onboard", "action": "jira.create_issue", "connection": "<jira>", "needs": ["announce"],
   "if": "trigger.user.plan == 'enterprise'",
   "input": {"project_key": "CS", "summary": "Onboard {{ trigger.user.company }}", "description": "Signed up by {{ trigger.user.email }}"}}]}`,
		Sample: `{"event_id": "evt_1001", "type": "signup", "user": {"id": "u_42", "email": "ada@example.com", "first_name": "Ada", "plan": "enterprise", "company": "Analytical Engines"}}`,
	},
	{
		Key:         "welcome_email",
		Name:        "Welcome email, optional product updates",
		Description: "Always send the welcome email; add the person to the product-updates audience in Mailchimp only when they opted in.",
		Definition: `{"trigger": {"type": "webhook"},
 "steps": [
  {"id": "welcome", "action": "email.send", "connection": "<email>", "needs": [],
   "input": {"to": "{{ trigger.email }}", "subject": "Welcome, {{ trigger.name }}", "text": "Glad you are here."}},
  {"id": "updates", "action": "mailchimp.upsert_member", "connection": "<mailchimp>", "needs": [],
   "if": "trigger.product_updates == true",
   "input": {"list_id": "updates", "email": "{{ trigger.email }}", "tags": ["product-updates"]}}]}`,
		Sample: `{"email": "grace@example.com", "name": "Grace", "product_updates": true}`,
	},
}

// blankDefinition is a new flow with only its trigger.
func blankDefinition() *flows.Definition {
	return &flows.Definition{Trigger: flows.Trigger{Type: flows.TriggerWebhook}, Steps: []flows.Step{}}
}

func templateByKey(key string) (flowTemplate, bool) {
	for _, t := range flowTemplates {
		if t.Key == key {
			return t, true
		}
	}
	return flowTemplate{}, false
}

// instantiate decodes a template with the workspace's connections filled in.
func (t flowTemplate) instantiate(conns []store.Connection) (*flows.Definition, any, error) {
	def, err := flows.Decode([]byte(t.Definition))
	if err != nil {
		return nil, nil, err
	}
	for i := range def.Steps {
		s := &def.Steps[i]
		if !strings.HasPrefix(s.Connection, "<") {
			continue
		}
		connector := strings.Trim(s.Connection, "<>")
		s.Connection = ""
		for _, c := range conns {
			if c.Connector == connector {
				s.Connection = c.ID.String()
				break
			}
		}
	}
	var sample any
	if err := json.Unmarshal([]byte(t.Sample), &sample); err != nil {
		return nil, nil, err
	}
	return def, sample, nil
}
