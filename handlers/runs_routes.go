package handlers

import "github.com/gofiber/fiber/v2"

// runsRoutes registers this feature's pages on the signed-in router.
func (a *app) runsRoutes(r fiber.Router) {}
