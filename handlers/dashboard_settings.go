package handlers

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/web/components"
	"github.com/switchboard/switchboard/web/dashboard"
	"github.com/switchboard/switchboard/web/layout"
)

// settingsView loads the workspace's members and live tokens.
func (a *app) settingsView(c *fiber.Ctx) (dashboard.SettingsView, error) {
	ctx := c.UserContext()
	m := member(c)
	members, err := store.ListMembers(ctx, a.Pool, m.WorkspaceID)
	if err != nil {
		return dashboard.SettingsView{}, err
	}
	tokens, err := store.ListTokens(ctx, a.Pool, m.WorkspaceID)
	if err != nil {
		return dashboard.SettingsView{}, err
	}
	v := dashboard.SettingsView{Page: a.page(c, "Settings", layout.NavSettings)}
	emails := make(map[uuid.UUID]string, len(members))
	for _, mm := range members {
		emails[mm.UserID] = mm.Email
		v.Members = append(v.Members, dashboard.Member{Email: mm.Email, Role: mm.Role, You: mm.UserID == m.UserID})
	}
	for _, t := range tokens {
		owner := emails[t.UserID]
		if owner == "" {
			owner = "a former member"
		}
		v.Tokens = append(v.Tokens, dashboard.Token{ID: t.ID.String(), Name: t.Name, Prefix: t.Prefix, Owner: owner,
			CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt, CanRevoke: canRevoke(m, t)})
	}
	return v, nil
}

// canRevoke: owners may revoke any token of the workspace, others their own.
func canRevoke(m store.Member, t store.APIToken) bool {
	return m.Role == store.RoleOwner || t.UserID == m.UserID
}

func (a *app) settingsPage(c *fiber.Ctx) error {
	v, err := a.settingsView(c)
	if err != nil {
		return err
	}
	return render(c, dashboard.Settings(v))
}

// createToken makes a token acting as the signed-in member and shows it once,
// in this response only (never stored, never redirected through the session).
func (a *app) createToken(c *fiber.Ctx) error {
	name := strings.TrimSpace(c.FormValue("name"))
	var msg string
	switch {
	case name == "":
		msg = "Give the token a name, such as what will use it."
	case utf8.RuneCountInString(name) > 100:
		msg = "Keep the name to 100 characters or fewer."
	}
	if msg != "" {
		v, err := a.settingsView(c)
		if err != nil {
			return err
		}
		v.Name = components.FieldView{Value: name, Error: msg, Required: true}
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, dashboard.Settings(v))
	}
	tok, _, err := store.CreateToken(c.UserContext(), a.Pool, member(c), name)
	if err != nil {
		return err
	}
	v, err := a.settingsView(c)
	if err != nil {
		return err
	}
	v.NewToken, v.NewTokenName = tok, name
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, dashboard.Settings(v))
}

func (a *app) revokeToken(c *fiber.Ctx) error {
	ctx := c.UserContext()
	m := member(c)
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return notFound("Token")
	}
	tokens, err := store.ListTokens(ctx, a.Pool, m.WorkspaceID)
	if err != nil {
		return err
	}
	var tok *store.APIToken
	for i := range tokens {
		if tokens[i].ID == id {
			tok = &tokens[i]
		}
	}
	if tok == nil {
		return notFound("Token")
	}
	if !canRevoke(m, *tok) {
		return errForbidden
	}
	if err := store.RevokeToken(ctx, a.Pool, m.WorkspaceID, id); errors.Is(err, store.ErrNotFound) {
		return notFound("Token")
	} else if err != nil {
		return err
	}
	sess, err := a.sessions.Get(c)
	if err != nil {
		return err
	}
	sess.Set(sessFlash, "Token “"+tok.Name+"” revoked: it no longer works.")
	if err := sess.Save(); err != nil {
		return err
	}
	return c.Redirect("/settings", fiber.StatusSeeOther)
}
