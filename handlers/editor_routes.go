package handlers

import "github.com/gofiber/fiber/v2"

// editorRoutes registers this feature's pages on the signed-in router.
func (a *app) editorRoutes(r fiber.Router) {}
