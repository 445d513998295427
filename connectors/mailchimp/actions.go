package mailchimp

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/switchboard/switchboard/connectors"
)

// Member statuses Mailchimp accepts for status_if_new.
var statuses = []string{"subscribed", "unsubscribed", "cleaned", "pending", "transactional"}

func listField() connectors.Field {
	return connectors.Field{Key: "list_id", Label: "Audience ID", Type: connectors.FieldString, Required: true,
		Help: "Audience → Settings → Audience name and defaults → Audience ID.", Example: "a1b2c3d4e5"}
}

func emailField() connectors.Field {
	return connectors.Field{Key: "email", Label: "Email", Type: connectors.FieldString, Required: true,
		Example: "{{ trigger.email }}"}
}

// UpsertMember is the mailchimp.upsert_member action.
type UpsertMember struct{}

// Spec describes mailchimp.upsert_member.
func (UpsertMember) Spec() connectors.ActionSpec {
	return connectors.ActionSpec{
		Key:  "mailchimp.upsert_member",
		Name: "Add or update an audience member",
		Description: "Adds the email to the audience, or updates the member if it is already there " +
			"(PUT /lists/{list_id}/members/{subscriber_hash}, safe to retry). Tags are then added with the " +
			"member tags endpoint, which works for new and existing members alike.",
		Fields: []connectors.Field{
			listField(),
			emailField(),
			{Key: "status_if_new", Label: "Status if new", Type: connectors.FieldSelect, Enum: statuses, Default: "subscribed",
				Help: "The status of a new member; an existing member keeps theirs. \"pending\" sends a double opt-in email."},
			{Key: "merge_fields", Label: "Merge fields", Type: connectors.FieldJSON,
				Help:    "An object of the audience's merge tags, e.g. FNAME and LNAME (an ADDRESS is an object).",
				Example: map[string]any{"FNAME": "{{ trigger.first_name }}"}},
			{Key: "tags", Label: "Tags", Type: connectors.FieldList,
				Help: "Tags to add to the member. Tags that do not exist yet are created.", Example: []string{"signup"}},
		},
		Outputs: []connectors.Field{
			{Key: "id", Label: "Member ID", Type: connectors.FieldString, Help: "The subscriber hash (MD5 of the lowercase email)."},
			{Key: "status", Label: "Status", Type: connectors.FieldString},
		},
	}
}

// Execute upserts the member, then adds the tags.
func (UpsertMember) Execute(ctx context.Context, req connectors.Request) (map[string]any, error) {
	root, key, err := endpoint(req.Connection)
	if err != nil {
		return nil, err
	}
	in := req.Input
	listID, err := connectors.InputString(in, "list_id")
	if err != nil {
		return nil, err
	}
	email, err := inputEmail(in)
	if err != nil {
		return nil, err
	}
	status, err := connectors.InputOptionalString(in, "status_if_new")
	if err != nil {
		return nil, err
	}
	if status == "" {
		status = "subscribed"
	}
	if !contains(statuses, status) {
		return nil, connectors.InvalidInput("status_if_new", "must be one of "+strings.Join(statuses, ", "))
	}
	merge, err := connectors.InputMap(in, "merge_fields")
	if err != nil {
		return nil, err
	}
	tags, err := connectors.InputStringList(in, "tags")
	if err != nil {
		return nil, err
	}

	body := map[string]any{"email_address": email, "status_if_new": status}
	if len(merge) > 0 {
		body["merge_fields"] = merge
	}
	respBody, err := do(ctx, req.HTTP, key, http.MethodPut, memberURL(root, listID, email), body)
	if err != nil {
		return nil, err
	}
	var member struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(respBody, &member); err != nil {
		return nil, &connectors.RetryableError{Status: http.StatusOK, Message: "mailchimp: the member answer is not JSON: " + connectors.BodySnippet(respBody, 120)}
	}
	if len(tags) > 0 {
		if err := addTags(ctx, req.HTTP, key, root, listID, email, tags); err != nil {
			return nil, err
		}
	}
	return map[string]any{"id": member.ID, "status": member.Status}, nil
}

// AddTags is the mailchimp.add_tags action.
type AddTags struct{}

// Spec describes mailchimp.add_tags.
func (AddTags) Spec() connectors.ActionSpec {
	return connectors.ActionSpec{
		Key:         "mailchimp.add_tags",
		Name:        "Add tags to a member",
		Description: "Adds tags to an existing audience member (POST /lists/{list_id}/members/{subscriber_hash}/tags). Tags that do not exist yet are created.",
		Fields: []connectors.Field{
			listField(),
			emailField(),
			{Key: "tags", Label: "Tags", Type: connectors.FieldList, Required: true, Example: []string{"customer", "pro"}},
		},
	}
}

// Execute adds the tags.
func (AddTags) Execute(ctx context.Context, req connectors.Request) (map[string]any, error) {
	root, key, err := endpoint(req.Connection)
	if err != nil {
		return nil, err
	}
	listID, err := connectors.InputString(req.Input, "list_id")
	if err != nil {
		return nil, err
	}
	email, err := inputEmail(req.Input)
	if err != nil {
		return nil, err
	}
	tags, err := connectors.InputStringList(req.Input, "tags")
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, connectors.MissingInput("tags")
	}
	if err := addTags(ctx, req.HTTP, key, root, listID, email, tags); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

// addTags marks tags active on the member; the answer is 204 No Content.
func addTags(ctx context.Context, client *http.Client, key, root, listID, email string, tags []string) error {
	list := make([]map[string]string, 0, len(tags))
	for _, t := range tags {
		list = append(list, map[string]string{"name": t, "status": "active"})
	}
	_, err := do(ctx, client, key, http.MethodPost, memberURL(root, listID, email)+"/tags",
		map[string]any{"tags": list, "is_syncing": false})
	return err
}

func inputEmail(in map[string]any) (string, error) {
	email, err := connectors.InputString(in, "email")
	if err != nil {
		return "", err
	}
	if !strings.Contains(email, "@") {
		return "", connectors.InvalidInput("email", "is not an email address")
	}
	return email, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
