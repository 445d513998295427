package handlers

import "github.com/gofiber/fiber/v2"

// editorRoutes registers the flow editor, the flows list's actions and the
// connections pages on the signed-in router. Reading needs a member; every
// POST needs edit rights (and, like every UI form, a CSRF token).
func (a *app) editorRoutes(r fiber.Router) {
	// New flows: blank, from a template, or imported (handlers/editor_new.go).
	// These come before /flows/:id so that "new" is not taken for an id.
	r.Get("/flows/new", a.newFlowForm)
	r.Post("/flows/new", requireEditor, a.createFlowFromForm)
	r.Get("/flows/import", a.importFlowForm)
	r.Post("/flows/import", requireEditor, a.importFlow)

	// The editor page and its side-panel partials (handlers/editor.go).
	r.Get("/flows/:id", a.editorPage)
	r.Get("/flows/:id/overview", a.editorOverview)
	r.Get("/flows/:id/trigger", a.editorTriggerPanel)
	r.Get("/flows/:id/steps/:step", a.editorStepPanel)
	r.Get("/flows/:id/catalog", a.editorCatalog)
	r.Get("/flows/:id/catalog/results", a.editorCatalogResults)
	r.Get("/flows/:id/export", a.exportFlow)
	r.Get("/flows/:id/versions", a.flowVersionsPage)

	// Editing the draft (handlers/editor_step.go, editor_trigger.go,
	// editor_test_step.go).
	r.Post("/flows/:id/trigger", requireEditor, a.saveTrigger)
	r.Post("/flows/:id/sample/last-event", requireEditor, a.useLastEvent)
	// Listening for a test event (handlers/editor_listen.go).
	r.Post("/flows/:id/sample/listen", requireEditor, a.listenForEvent)
	r.Post("/flows/:id/sample/listen/stop", requireEditor, a.stopListening)
	r.Get("/flows/:id/sample/listen", a.listenStatus)
	r.Post("/flows/:id/steps", requireEditor, a.addStep)
	r.Post("/flows/:id/steps/:step", requireEditor, a.saveStep)
	r.Post("/flows/:id/steps/:step/delete", requireEditor, a.deleteStepHandler)
	r.Post("/flows/:id/steps/:step/test", requireEditor, a.testStepHandler)
	r.Get("/flows/:id/steps/:step/test/:run", a.testStepResult)
	r.Post("/flows/:id/steps/:step/add-connection", requireEditor, a.addConnectionFromStep)
	r.Post("/flows/:id/validate", requireEditor, a.validateField)

	// Publishing and versions (handlers/editor_publish.go).
	r.Post("/flows/:id/publish", requireEditor, a.publishDraft)
	r.Post("/flows/:id/discard", requireEditor, a.discardDraft)
	r.Post("/flows/:id/versions/:version/revert", requireEditor, a.revertToVersion)

	// The flow's settings (handlers/editor_new.go).
	r.Post("/flows/:id/enabled", requireEditor, a.setFlowEnabledForm)
	r.Post("/flows/:id/rename", requireEditor, a.renameFlowForm)

	// Connections (handlers/connections_page.go).
	r.Get("/connections", a.connectionsPage)
	r.Get("/connections/new", a.newConnectionForm)
	r.Post("/connections/new", requireEditor, a.createConnectionForm)
	r.Post("/connections/:id/test", requireEditor, a.testConnectionForm)
	r.Post("/connections/:id/delete", requireEditor, a.deleteConnectionForm)
}
