package handlers

import (
	"errors"
	"net/mail"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/web/auth"
	"github.com/switchboard/switchboard/web/layout"
)

// setupForm shows the first-user form while no user exists.
func (a *app) setupForm(c *fiber.Ctx) error {
	n, err := store.CountUsers(c.UserContext(), a.Pool)
	if err != nil {
		return err
	}
	if n > 0 {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	return render(c, auth.Setup(auth.SetupView{Page: layout.Page{Title: "Set up Switchboard", CSRF: csrfToken(c)}}))
}

// setup creates the first user and their workspace, and signs them in.
func (a *app) setup(c *fiber.Ctx) error {
	ctx := c.UserContext()
	n, err := store.CountUsers(ctx, a.Pool)
	if err != nil {
		return err
	}
	if n > 0 {
		return errorf(fiber.StatusConflict, "already_set_up", "Switchboard is already set up; sign in instead.")
	}
	v := auth.SetupView{
		Page:      layout.Page{Title: "Set up Switchboard", CSRF: csrfToken(c)},
		Email:     strings.TrimSpace(c.FormValue("email")),
		Workspace: strings.TrimSpace(c.FormValue("workspace")),
		Errors:    map[string]string{},
	}
	password := c.FormValue("password")
	if v.Workspace == "" {
		v.Errors["workspace"] = "Name your workspace (your team or company)."
	} else if len(v.Workspace) > 100 {
		v.Errors["workspace"] = "Keep it under 100 characters."
	}
	if msg := checkEmail(v.Email); msg != "" {
		v.Errors["email"] = msg
	}
	if msg := checkPassword(password); msg != "" {
		v.Errors["password"] = msg
	} else if password != c.FormValue("password_confirm") {
		v.Errors["password_confirm"] = "The two passwords differ."
	}
	if len(v.Errors) > 0 {
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, auth.Setup(v))
	}
	hash, err := store.HashPassword(password)
	if err != nil {
		return err
	}
	m, err := store.CreateOwner(ctx, a.Pool, v.Email, hash, v.Workspace)
	if errors.Is(err, store.ErrConflict) {
		v.Errors["email"] = "This email already has an account."
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, auth.Setup(v))
	}
	if err != nil {
		return err
	}
	return a.signIn(c, m, "/flows")
}

func (a *app) loginForm(c *fiber.Ctx) error {
	n, err := store.CountUsers(c.UserContext(), a.Pool)
	if err != nil {
		return err
	}
	if n == 0 {
		return c.Redirect("/setup", fiber.StatusSeeOther)
	}
	return render(c, auth.Login(auth.LoginView{
		Page: layout.Page{Title: "Sign in", CSRF: csrfToken(c)},
		Next: safeNext(c.Query("next")),
	}))
}

// login checks the password and starts a fresh session (new id: no fixation).
func (a *app) login(c *fiber.Ctx) error {
	ctx := c.UserContext()
	email, password := strings.TrimSpace(c.FormValue("email")), c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	fail := func() error {
		c.Status(fiber.StatusUnauthorized)
		return render(c, auth.Login(auth.LoginView{
			Page:  layout.Page{Title: "Sign in", CSRF: csrfToken(c)},
			Email: email, Next: next,
			Error: "That email and password do not match an account.",
		}))
	}
	u, err := store.UserByEmail(ctx, a.Pool, email)
	if errors.Is(err, store.ErrNotFound) {
		store.CheckNoUser(password)
		return fail()
	}
	if err != nil {
		return err
	}
	if !store.CheckPassword(u.PasswordHash, password) {
		return fail()
	}
	m, err := store.DefaultMembership(ctx, a.Pool, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(fiber.StatusForbidden, "no_workspace", "Your account belongs to no workspace; ask an owner to add you.")
	}
	if err != nil {
		return err
	}
	return a.signIn(c, m, next)
}

func (a *app) signIn(c *fiber.Ctx, m store.Member, next string) error {
	sess, err := a.sessions.Get(c)
	if err != nil {
		return err
	}
	if err := sess.Regenerate(); err != nil {
		return err
	}
	sess.Set(sessUserID, m.UserID.String())
	sess.Set(sessWorkspaceID, m.WorkspaceID.String())
	if err := sess.Save(); err != nil {
		return err
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (a *app) logout(c *fiber.Ctx) error {
	sess, err := a.sessions.Get(c)
	if err != nil {
		return err
	}
	if err := sess.Destroy(); err != nil {
		return err
	}
	return c.Redirect("/login", fiber.StatusSeeOther)
}

func (a *app) tooManyLogins(c *fiber.Ctx) error {
	return errorf(fiber.StatusTooManyRequests, "rate_limited", "Too many sign-in attempts; wait a minute and try again.")
}

func checkEmail(email string) string {
	if email == "" {
		return "Enter your email address."
	}
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || len(email) > 254 {
		return "Enter a valid email address, like ada@example.com."
	}
	return ""
}

func checkPassword(p string) string {
	if len(p) < store.MinPasswordLen {
		return "Use at least 10 characters."
	}
	if len(p) > 1024 {
		return "Use at most 1024 characters."
	}
	return ""
}
