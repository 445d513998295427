package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchboard/switchboard/connectors"
)

func issueKeyField() connectors.Field {
	return connectors.Field{Key: "issue_key", Label: "Issue", Type: connectors.FieldString, Required: true,
		Help: "The issue key (or id).", Example: "{{ steps.ticket.key }}"}
}

// CreateIssue is the jira.create_issue action.
type CreateIssue struct{}

// Spec describes jira.create_issue.
func (CreateIssue) Spec() connectors.ActionSpec {
	return connectors.ActionSpec{
		Key:         "jira.create_issue",
		Name:        "Create an issue",
		Description: "Creates an issue (POST /rest/api/3/issue). The description is plain text: blank lines separate paragraphs.",
		Fields: []connectors.Field{
			{Key: "project_key", Label: "Project key", Type: connectors.FieldString, Required: true, Example: "OPS"},
			{Key: "issue_type", Label: "Issue type", Type: connectors.FieldString, Default: "Task",
				Help: "The name of an issue type of the project: Task, Bug, Story…", Example: "Bug"},
			{Key: "summary", Label: "Summary", Type: connectors.FieldString, Required: true, Example: "Onboard {{ trigger.company }}"},
			{Key: "description", Label: "Description", Type: connectors.FieldText,
				Help: "Plain text; blank lines start new paragraphs.", Example: "Signed up by {{ trigger.email }}"},
			{Key: "labels", Label: "Labels", Type: connectors.FieldList,
				Help: "Labels cannot contain spaces.", Example: []string{"switchboard"}},
		},
		Outputs: []connectors.Field{
			{Key: "id", Label: "Issue ID", Type: connectors.FieldString},
			{Key: "key", Label: "Issue key", Type: connectors.FieldString, Example: "OPS-24"},
			{Key: "url", Label: "Issue URL", Type: connectors.FieldString, Example: "https://your-domain.atlassian.net/browse/OPS-24"},
		},
	}
}

// Execute creates the issue.
func (CreateIssue) Execute(ctx context.Context, req connectors.Request) (map[string]any, error) {
	s, err := newSite(req.Connection)
	if err != nil {
		return nil, err
	}
	in := req.Input
	project, err := connectors.InputString(in, "project_key")
	if err != nil {
		return nil, err
	}
	issueType, err := connectors.InputOptionalString(in, "issue_type")
	if err != nil {
		return nil, err
	}
	if issueType == "" {
		issueType = "Task"
	}
	summary, err := connectors.InputString(in, "summary")
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(summary, "\r\n") {
		// Jira rejects multi-line summaries; keep the first line's meaning.
		summary = strings.Join(strings.Fields(summary), " ")
	}
	description, err := connectors.InputText(in, "description")
	if err != nil {
		return nil, err
	}
	labels, err := connectors.InputStringList(in, "labels")
	if err != nil {
		return nil, err
	}
	for _, l := range labels {
		if strings.ContainsAny(l, " \t") {
			return nil, connectors.InvalidInput("labels", "must not contain spaces")
		}
	}

	fields := map[string]any{
		"project":   map[string]any{"key": project},
		"issuetype": map[string]any{"name": issueType},
		"summary":   summary,
	}
	if strings.TrimSpace(description) != "" {
		fields["description"] = ADF(description)
	}
	if len(labels) > 0 {
		fields["labels"] = labels
	}
	body, err := s.do(ctx, req.HTTP, http.MethodPost, "/rest/api/3/issue", map[string]any{"fields": fields})
	if err != nil {
		return nil, err
	}
	var created struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if err := json.Unmarshal(body, &created); err != nil || created.Key == "" {
		return nil, connectors.Permanent(http.StatusCreated, "jira: the created issue's answer has no key: "+connectors.BodySnippet(body, 120))
	}
	return map[string]any{"id": created.ID, "key": created.Key, "url": s.root + "/browse/" + created.Key}, nil
}

// TransitionIssue is the jira.transition_issue action.
type TransitionIssue struct{}

// Spec describes jira.transition_issue.
func (TransitionIssue) Spec() connectors.ActionSpec {
	return connectors.ActionSpec{
		Key:  "jira.transition_issue",
		Name: "Transition an issue",
		Description: "Moves an issue through its workflow. The transition is looked up among the issue's available " +
			"transitions by id, by name or by target status name (case-insensitive), since ids differ per workflow.",
		Fields: []connectors.Field{
			issueKeyField(),
			{Key: "transition", Label: "Transition", Type: connectors.FieldString, Required: true,
				Help: "A transition name (\"Done\"), its target status, or its id.", Example: "Done"},
		},
		Outputs: []connectors.Field{
			{Key: "issue_key", Label: "Issue key", Type: connectors.FieldString},
			{Key: "transition_id", Label: "Transition ID", Type: connectors.FieldString},
			{Key: "status", Label: "New status", Type: connectors.FieldString},
		},
	}
}

// transition is one entry of GET …/transitions.
type transition struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	To   struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"to"`
}

// Execute looks the transition up and performs it.
func (TransitionIssue) Execute(ctx context.Context, req connectors.Request) (map[string]any, error) {
	s, err := newSite(req.Connection)
	if err != nil {
		return nil, err
	}
	issueKey, err := connectors.InputString(req.Input, "issue_key")
	if err != nil {
		return nil, err
	}
	want, err := connectors.InputString(req.Input, "transition")
	if err != nil {
		return nil, err
	}
	body, err := s.do(ctx, req.HTTP, http.MethodGet, issuePath(issueKey, "/transitions"), nil)
	if err != nil {
		return nil, err
	}
	var list struct {
		Transitions []transition `json:"transitions"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, &connectors.RetryableError{Status: http.StatusOK, Message: "jira: the transitions answer is not JSON"}
	}
	t, ok := pickTransition(list.Transitions, want)
	if !ok {
		names := make([]string, 0, len(list.Transitions))
		for _, t := range list.Transitions {
			names = append(names, fmt.Sprintf("%s (id %s)", t.Name, t.ID))
		}
		avail := "none"
		if len(names) > 0 {
			avail = strings.Join(names, ", ")
		}
		return nil, connectors.Permanent(0, fmt.Sprintf("jira: issue %s has no transition %q; available: %s", issueKey, want, avail))
	}
	if _, err := s.do(ctx, req.HTTP, http.MethodPost, issuePath(issueKey, "/transitions"),
		map[string]any{"transition": map[string]any{"id": t.ID}}); err != nil {
		return nil, err
	}
	return map[string]any{"issue_key": issueKey, "transition_id": t.ID, "status": t.To.Name}, nil
}

// pickTransition matches by id, then transition name, then target status
// name, case-insensitively.
func pickTransition(ts []transition, want string) (transition, bool) {
	for _, t := range ts {
		if t.ID == want {
			return t, true
		}
	}
	for _, t := range ts {
		if strings.EqualFold(strings.TrimSpace(t.Name), want) {
			return t, true
		}
	}
	for _, t := range ts {
		if strings.EqualFold(strings.TrimSpace(t.To.Name), want) {
			return t, true
		}
	}
	return transition{}, false
}

// AddComment is the jira.add_comment action.
type AddComment struct{}

// Spec describes jira.add_comment.
func (AddComment) Spec() connectors.ActionSpec {
	return connectors.ActionSpec{
		Key:         "jira.add_comment",
		Name:        "Add a comment",
		Description: "Adds a comment to an issue (POST /rest/api/3/issue/{key}/comment). The body is plain text: blank lines separate paragraphs.",
		Fields: []connectors.Field{
			issueKeyField(),
			{Key: "body", Label: "Comment", Type: connectors.FieldText, Required: true, Example: "Deployed build {{ trigger.build_id }}."},
		},
		Outputs: []connectors.Field{
			{Key: "id", Label: "Comment ID", Type: connectors.FieldString},
		},
	}
}

// Execute adds the comment.
func (AddComment) Execute(ctx context.Context, req connectors.Request) (map[string]any, error) {
	s, err := newSite(req.Connection)
	if err != nil {
		return nil, err
	}
	issueKey, err := connectors.InputString(req.Input, "issue_key")
	if err != nil {
		return nil, err
	}
	text, err := connectors.InputText(req.Input, "body")
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(text) == "" {
		return nil, connectors.MissingInput("body")
	}
	body, err := s.do(ctx, req.HTTP, http.MethodPost, issuePath(issueKey, "/comment"), map[string]any{"body": ADF(text)})
	if err != nil {
		return nil, err
	}
	var c struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return nil, connectors.Permanent(http.StatusCreated, "jira: the comment answer is not JSON")
	}
	return map[string]any{"id": c.ID}, nil
}
