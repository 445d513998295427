package handlers

import "github.com/gofiber/fiber/v2"

// dashboardRoutes registers this feature's pages on the signed-in router.
func (a *app) dashboardRoutes(r fiber.Router) {
	// Dashboard (handlers/dashboard.go): ?range=hour|day|week; htmx
	// refreshes ask for the panel alone.
	r.Get("/dashboard", a.dashboardPage)
	// Settings (handlers/dashboard_settings.go): members and API tokens.
	r.Get("/settings", a.settingsPage)
	r.Post("/settings/tokens", a.createToken)
	r.Post("/settings/tokens/:id/revoke", a.revokeToken)
}
