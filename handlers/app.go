// Package handlers is the Fiber app: middleware, UI pages, the JSON API and
// webhook ingest. New builds it from explicit dependencies; tests build it through
// the same function.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/switchboard/switchboard/connectors"
	"github.com/switchboard/switchboard/jobs"
	"github.com/switchboard/switchboard/store"
)

// Deps are what the web app needs.
type Deps struct {
	Pool    *pgxpool.Pool
	River   *river.Client[pgx.Tx]
	Catalog *connectors.Catalog
	Sealer  *store.Sealer
	// Engine starts and recovers runs (ingest, manual runs, retry, replay, cancel).
	Engine *jobs.Engine
	// HTTP is the egress-guarded client for connection tests.
	HTTP   *http.Client
	Logger *slog.Logger
	// BaseURL is the public URL used in webhook links (no trailing slash).
	BaseURL string
	// MaxBody is the largest accepted webhook body.
	MaxBody int64
	// Ready reports whether the process can serve (database and schema); nil
	// checks the database only.
	Ready func(ctx context.Context) error
	// FlowCacheTTL is how long webhook ingest may reuse a flow it looked up by
	// token (store.HookFlows); 0 looks it up on every request.
	FlowCacheTTL time.Duration
}

type app struct {
	Deps
	log      *slog.Logger
	store    *store.Store
	sessions *session.Store
	secure   bool
	hooks    *store.HookFlows
}

// New returns the Fiber app with every route.
func New(d Deps) *fiber.App {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.MaxBody <= 0 {
		d.MaxBody = 1 << 20
	}
	a := &app{Deps: d, log: d.Logger, store: store.New(d.Pool), secure: strings.HasPrefix(d.BaseURL, "https://"),
		hooks: store.NewHookFlows(d.Pool, d.FlowCacheTTL)}
	a.sessions = session.New(session.Config{
		Storage:        store.NewSessionStorage(d.Pool),
		Expiration:     7 * 24 * time.Hour,
		KeyLookup:      "cookie:sb_session",
		CookieHTTPOnly: true,
		CookieSameSite: "Lax",
		CookieSecure:   a.secure,
	})
	f := fiber.New(fiber.Config{
		AppName:               "switchboard",
		ErrorHandler:          a.errorHandler,
		DisableStartupMessage: true,
		// Webhook bodies above MaxBody get our JSON 413; this is the hard stop.
		BodyLimit:    int(d.MaxBody) + 64<<10,
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 60 * time.Second,
		IdleTimeout:  120 * time.Second,
	})
	a.routes(f)
	return f
}
