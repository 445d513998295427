package handlers

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"github.com/switchboard/switchboard/static"
)

// csp allows nothing inline: scripts and styles come from /static only.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"

// routes is the one route table.
func (a *app) routes(f *fiber.App) {
	// Every request: a request id, a log line, panics turned into 500s, and
	// security headers.
	f.Use(requestid.New(requestid.Config{ContextKey: "requestid"}))
	f.Use(logRequests(a.log))
	f.Use(recover.New())
	f.Use(helmet.New(helmet.Config{
		ContentSecurityPolicy: csp,
		XFrameOptions:         "DENY",
		ReferrerPolicy:        "same-origin",
		// Cross-origin isolation headers would break nothing here but buy nothing either.
		CrossOriginEmbedderPolicy: "unsafe-none",
	}))

	// Probes and metrics.
	f.Get("/healthz", a.healthz)
	f.Get("/readyz", a.readyz)
	f.Get("/metrics", a.metrics) // handlers/metrics.go

	// Static assets, embedded.
	f.Use("/static", filesystem.New(filesystem.Config{Root: http.FS(static.FS), MaxAge: 3600}))

	// JSON API: bearer tokens, scoped to the token's workspace.
	api := f.Group("/api/v1", a.requireToken)
	api.Get("/connectors", a.apiConnectors)
	// Connections (handlers/connections_api.go).
	api.Post("/connections", requireEditor, a.apiCreateConnection)
	api.Get("/connections", a.apiListConnections)
	api.Delete("/connections/:id", requireEditor, a.apiDeleteConnection)
	api.Post("/connections/:id/test", requireEditor, a.apiTestConnection)
	// Flows (handlers/flows_api.go).
	api.Post("/flows", requireEditor, a.apiCreateFlow)
	api.Get("/flows", a.apiListFlows)
	api.Get("/flows/:id", a.apiGetFlow)
	api.Put("/flows/:id", requireEditor, a.apiUpdateFlow)
	api.Post("/flows/:id/enable", requireEditor, a.apiEnableFlow)
	api.Post("/flows/:id/disable", requireEditor, a.apiDisableFlow)
	api.Delete("/flows/:id", requireEditor, a.apiDeleteFlow)
	api.Get("/flows/:id/versions", a.apiListFlowVersions)
	// Runs (handlers/runs_api.go); recovering runs needs edit rights.
	api.Post("/runs", requireEditor, a.apiCreateRun)
	api.Get("/runs", a.apiListRuns)
	api.Post("/runs/retry-failed", requireEditor, a.apiRetryFailed)
	api.Get("/runs/:id", a.apiGetRun)
	api.Post("/runs/:id/steps/:step/retry", requireEditor, a.apiRetryStep)
	api.Post("/runs/:id/replay", requireEditor, a.apiReplayRun)
	api.Post("/runs/:id/cancel", requireEditor, a.apiCancelRun)
	// Nothing under /api falls through to the UI's middleware.
	f.Use("/api", func(c *fiber.Ctx) error { return fiber.ErrNotFound })

	// Webhook intake (handlers/ingest.go): the unguessable token is the credential.
	f.Post("/hooks/:token", a.ingest)
	f.Get("/hooks/:token", a.ingestValidate) // Mailchimp validates the URL with a GET
	f.Use("/hooks", func(c *fiber.Ctx) error { return fiber.ErrNotFound })

	// Browser UI: server-side sessions and CSRF tokens on every form.
	ui := f.Group("", a.csrf())
	ui.Get("/setup", a.setupForm)
	ui.Post("/setup", a.setup)
	ui.Get("/login", a.loginForm)
	ui.Post("/login", limiter.New(limiter.Config{Max: 10, LimitReached: a.tooManyLogins}), a.login)
	ui.Post("/logout", a.logout)

	signedIn := ui.Group("", a.requireUser)
	signedIn.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/flows") })
	signedIn.Get("/flows", a.flowsPage)
	// Each feature's pages and htmx partials register in their own file.
	a.editorRoutes(signedIn)    // handlers/editor_routes.go: /flows/new, /flows/:id, /connections
	a.runsRoutes(signedIn)      // handlers/runs_routes.go: /runs, /runs/:id
	a.dashboardRoutes(signedIn) // handlers/dashboard_routes.go: /dashboard, /settings

	f.Use(func(c *fiber.Ctx) error { return fiber.ErrNotFound })
}
