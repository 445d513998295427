package handlers

import "github.com/gofiber/fiber/v2"

// dashboardRoutes registers this feature's pages on the signed-in router.
func (a *app) dashboardRoutes(r fiber.Router) {}
