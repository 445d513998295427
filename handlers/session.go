package handlers

import (
	"errors"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/csrf"
	"github.com/google/uuid"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/web/layout"
)

const (
	sessUserID      = "user_id"
	sessWorkspaceID = "workspace_id"
	sessFlash       = "flash"
	localsMember    = "member"
	localsCSRF      = "csrf"
)

// csrf protects every UI form: a synchronizer token kept in the server-side
// session, sent back as the `_csrf` form field or the X-CSRF-Token header (htmx).
func (a *app) csrf() fiber.Handler {
	return csrf.New(csrf.Config{
		Session:        a.sessions,
		CookieName:     "sb_csrf",
		CookieHTTPOnly: true,
		CookieSameSite: "Lax",
		CookieSecure:   a.secure,
		Expiration:     24 * 3600 * 1e9,
		ContextKey:     localsCSRF,
		Extractor: func(c *fiber.Ctx) (string, error) {
			if t := c.Get(csrf.HeaderName); t != "" {
				return t, nil
			}
			if t := c.FormValue("_csrf"); t != "" {
				return t, nil
			}
			return "", csrf.ErrTokenNotFound
		},
		ErrorHandler: func(c *fiber.Ctx, err error) error { return errCSRF },
	})
}

func csrfToken(c *fiber.Ctx) string {
	t, _ := c.Locals(localsCSRF).(string)
	return t
}

// member is the signed-in member (UI) or the token's member (API).
func member(c *fiber.Ctx) store.Member {
	m, _ := c.Locals(localsMember).(store.Member)
	return m
}

// requireUser loads the signed-in member from the session, or redirects to the
// login page (to setup while nobody exists yet).
func (a *app) requireUser(c *fiber.Ctx) error {
	sess, err := a.sessions.Get(c)
	if err != nil {
		return err
	}
	uid, _ := uuid.Parse(asString(sess.Get(sessUserID)))
	wid, _ := uuid.Parse(asString(sess.Get(sessWorkspaceID)))
	if uid != uuid.Nil && wid != uuid.Nil {
		m, err := store.MemberOf(c.UserContext(), a.Pool, uid, wid)
		if err == nil {
			c.Locals(localsMember, m)
			return c.Next()
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if c.Get("HX-Request") == "true" {
		c.Set("HX-Redirect", "/login")
		return c.SendStatus(fiber.StatusUnauthorized)
	}
	next := c.OriginalURL()
	if next == "/" {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	return c.Redirect("/login?next="+url.QueryEscape(next), fiber.StatusSeeOther)
}

// requireEditor refuses members who may only read.
func requireEditor(c *fiber.Ctx) error {
	if !member(c).CanEdit() {
		return errForbidden
	}
	return c.Next()
}

// page fills the layout's view model for a signed-in page and pops the flash.
func (a *app) page(c *fiber.Ctx, title, active string) layout.Page {
	m := member(c)
	p := layout.Page{Title: title, CSRF: csrfToken(c), Active: active}
	if m.UserID != uuid.Nil {
		p.User = &layout.User{Email: m.Email, Workspace: m.WorkspaceName}
	}
	if sess, err := a.sessions.Get(c); err == nil {
		if f := asString(sess.Get(sessFlash)); f != "" {
			p.Flash, p.FlashKind = f, "success"
			sess.Delete(sessFlash)
			_ = sess.Save()
		}
	}
	return p
}

// safeNext keeps post-login redirects on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/flows"
	}
	return next
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}
