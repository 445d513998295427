// Package auth renders the pages a visitor sees before signing in: the login
// form and the first-user setup form.
package auth

import "github.com/switchboard/switchboard/web/layout"

// LoginView is the login page. Email is echoed back after a failed attempt;
// Error is a single message shown above the form (never which of email or
// password was wrong); Next is the local path to return to after signing in,
// posted back in a hidden field (the handler must validate it).
type LoginView struct {
	Page  layout.Page
	Email string
	Error string
	Next  string
}

// SetupView is the first-user page that creates the workspace and its owner.
// Errors maps a field name (workspace, email, password, password_confirm) to
// its message; the key "" holds a message for the whole form.
type SetupView struct {
	Page      layout.Page
	Email     string
	Workspace string
	Errors    map[string]string
}

func withTitle(p layout.Page, title string) layout.Page {
	if p.Title == "" {
		p.Title = title
	}
	return p
}
