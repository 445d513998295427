package dashboard

import (
	"net/url"
	"time"

	"github.com/switchboard/switchboard/web/components"
	"github.com/switchboard/switchboard/web/layout"
)

// Member is one workspace member on the settings page.
type Member struct {
	Email string
	Role  string // owner, editor, viewer
	You   bool
}

// Token is one live API token (never its secret).
type Token struct {
	ID         string
	Name       string
	Prefix     string // the first characters, to recognise it
	Owner      string // the email of the member it acts as
	CreatedAt  time.Time
	LastUsedAt *time.Time
	CanRevoke  bool
}

// SettingsView is the settings page.
type SettingsView struct {
	Page    layout.Page
	Members []Member
	Tokens  []Token
	// NewToken is a token just created: shown once, never again.
	NewToken     string
	NewTokenName string
	// Name is the create form's field (with its error when invalid).
	Name components.FieldView
	// Now is the reference for relative times; zero means time.Now().
	Now time.Time
}

func (v SettingsView) now() time.Time {
	if v.Now.IsZero() {
		return time.Now()
	}
	return v.Now
}

func (v SettingsView) nameField() components.FieldView {
	f := v.Name
	f.Name, f.Label, f.Required = "name", "Name", true
	if f.Placeholder == "" {
		f.Placeholder = "ci-deploy"
	}
	if f.Help == "" {
		f.Help = "What the token is for. It acts as you, with your role."
	}
	return f
}

func revokeURL(id string) string { return "/settings/tokens/" + url.PathEscape(id) + "/revoke" }

var roleLabels = map[string]string{"owner": "Owner", "editor": "Editor", "viewer": "Viewer"}

func roleLabel(r string) string {
	if l, ok := roleLabels[r]; ok {
		return l
	}
	return r
}
