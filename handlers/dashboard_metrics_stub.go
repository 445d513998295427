//go:build !prometheus

package handlers

import "github.com/gofiber/fiber/v2"

// metrics answers 404 until go.mod and go.sum carry client_golang's own
// dependencies: then build with -tags prometheus (handlers/metrics.go), or
// delete this file and the build constraint in metrics.go.
func (a *app) metrics(c *fiber.Ctx) error { return fiber.ErrNotFound }
