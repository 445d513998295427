// Package web holds the server-rendered UI: templ components that take plain
// view-model structs and write HTML. Nothing under web/ touches the database,
// the session or the request; handlers build the view models and render.
//
// Folders:
//
//   - web/layout: the page shell (Base) and its Page/User view models: the
//     document head (CSRF and htmx-config meta, stylesheet, scripts), the top
//     nav, the flash message. Imports nothing else under web/.
//   - web/components: shared pieces (form fields, CSRF input, status badges,
//     empty states, the error page). May import web/layout.
//   - web/<feature> (auth, flows, runs, …): one package per area with its
//     pages, htmx partials and view models. May import layout and components,
//     and the domain package flows for view models; never each other.
//   - web/internal/htmltest: test helpers that render a component, find
//     elements by data-testid or name, and list CSP violations.
//
// Conventions:
//
//   - Edit the *.templ files and run `go tool templ generate` (or
//     `make generate`); the generated *_templ.go files are committed.
//   - The server's CSP forbids inline scripts, inline event handlers and
//     style="" attributes: behaviour goes in static/js/app.js (delegated
//     listeners keyed on data-* attributes), looks go in static/css/app.css.
//   - Every form that posts carries components.CSRFInput; htmx requests get
//     the X-CSRF-Token header from app.js.
//   - Elements that tests look for carry data-testid.
//   - Render with component.Render(c.UserContext(), c.Response().BodyWriter()).
package web
