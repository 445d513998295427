package handlers

import "github.com/gofiber/fiber/v2"

// runsRoutes registers this feature's pages on the signed-in router
// (handlers/runs_page.go). Recovering runs needs edit rights.
func (a *app) runsRoutes(r fiber.Router) {
	r.Get("/runs", a.runsPage)
	r.Get("/runs/rows", a.runsRows) // htmx: the list's table body, polled while runs go on
	r.Post("/runs/retry-failed", requireEditor, a.runsRetryFailed)
	r.Get("/runs/:id", a.runPage)
	r.Get("/runs/:id/live", a.runLive) // htmx: the run page's live region
	r.Post("/runs/:id/steps/:step/retry", requireEditor, a.runRetryStep)
	r.Post("/runs/:id/replay", requireEditor, a.runReplay)
	r.Post("/runs/:id/cancel", requireEditor, a.runCancel)
}
