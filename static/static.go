// Package static holds the browser assets of the web UI: the stylesheet, the
// vendored htmx, our small app.js, and the connector icons. They are embedded
// into the binary and served under /static/.
//
// Only asset files are embedded (not this file or the vendoring notes). There is
// no build step: edit the files and rebuild the binary. See js/VENDOR.md for the
// pinned htmx version.
package static

import "embed"

// FS holds css/*.css, js/*.js and icons/*.svg, rooted at this folder, so a
// request for /static/css/app.css maps to "css/app.css".
//
//go:embed css/*.css js/*.js icons/*.svg
var FS embed.FS
