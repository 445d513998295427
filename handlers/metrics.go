package handlers

import "github.com/gofiber/fiber/v2"

// metrics serves Prometheus metrics.
func (a *app) metrics(c *fiber.Ctx) error { return fiber.ErrNotFound }
