package handlers

import (
	"github.com/gofiber/fiber/v2"

	webflows "github.com/switchboard/switchboard/web/flows"
	"github.com/switchboard/switchboard/web/layout"
)

// flowsPage lists the workspace's flows.
func (a *app) flowsPage(c *fiber.Ctx) error {
	return render(c, webflows.List(webflows.ListView{Page: a.page(c, "Flows", layout.NavFlows)}))
}
