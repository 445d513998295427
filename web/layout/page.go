// Package layout is the page shell of the web UI: the HTML document, the top
// navigation and the flash message. Pages wrap their content in Base.
package layout

// Page is what every full page needs from the handler: the title, the signed-in
// user (nil on login/setup/error pages), the CSRF token for forms and htmx, the
// active nav item and an optional one-shot flash message.
type Page struct {
	// Title is shown in the browser tab as "Title · Switchboard".
	Title string
	// User is the signed-in user; the top nav is rendered only when it is set.
	User *User
	// CSRF is the session's CSRF token: rendered in <meta name="csrf-token">
	// (read by app.js for htmx requests) and in the logout form.
	CSRF string
	// Active is the key of the current nav item: one of NavFlows, NavRuns,
	// NavConnections, NavDashboard, NavSettings.
	Active string
	// Flash is a one-shot message shown above the page content.
	Flash string
	// FlashKind is "success", "info", "warning" or "error"; anything else
	// renders as "info".
	FlashKind string
}

// User is the signed-in user as the shell shows it.
type User struct {
	Email     string
	Workspace string
}

// Keys of the top nav items, for Page.Active.
const (
	NavFlows       = "flows"
	NavRuns        = "runs"
	NavConnections = "connections"
	NavDashboard   = "dashboard"
	NavSettings    = "settings"
)

// Paths of the shared static assets, served from the static package.
const (
	StylesheetPath = "/static/css/app.css"
	HtmxPath       = "/static/js/htmx.min.js"
	AppJSPath      = "/static/js/app.js"
	FaviconPath    = "/static/icons/favicon.svg"
)

// htmxConfig keeps htmx within the CSP: no injected <style> for indicators
// (the CSS lives in app.css), no eval, no executing <script> tags in swapped
// content.
const htmxConfig = `{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}`

type navItem struct {
	key, label, href string
}

var navItems = []navItem{
	{NavFlows, "Flows", "/flows"},
	{NavRuns, "Runs", "/runs"},
	{NavConnections, "Connections", "/connections"},
	{NavDashboard, "Dashboard", "/dashboard"},
	{NavSettings, "Settings", "/settings"},
}

func (p Page) documentTitle() string {
	if p.Title == "" {
		return "Switchboard"
	}
	return p.Title + " · Switchboard"
}

// flashKind maps FlashKind to a known modifier so arbitrary strings never
// become class names.
func (p Page) flashKind() string {
	switch p.FlashKind {
	case "success", "warning", "error":
		return p.FlashKind
	default:
		return "info"
	}
}
