package handlers

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/switchboard/switchboard/store"
)

// requireToken authenticates API calls by bearer token and scopes them to the
// token's workspace.
func (a *app) requireToken(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		return errUnauthorized
	}
	m, err := store.MemberByToken(c.UserContext(), a.Pool, strings.TrimSpace(tok))
	if errors.Is(err, store.ErrNotFound) {
		return errUnauthorized
	}
	if err != nil {
		return err
	}
	c.Locals(localsMember, m)
	return c.Next()
}

// apiConnectors answers the connector catalog.
func (a *app) apiConnectors(c *fiber.Ctx) error {
	if a.Catalog == nil {
		return c.JSON(fiber.Map{"connectors": []any{}})
	}
	return c.JSON(a.Catalog)
}
