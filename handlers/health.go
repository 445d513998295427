package handlers

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

func (a *app) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

func (a *app) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	check := a.Ready
	if check == nil {
		check = func(ctx context.Context) error { return a.Pool.Ping(ctx) }
	}
	if err := check(ctx); err != nil {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "error": err.Error()})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}
