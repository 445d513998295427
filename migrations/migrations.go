// Package migrations embeds the numbered SQL migrations applied by golang-migrate.
// Migrations are append-only: never edit one that has landed; add the next number,
// starting with a comment on why.
package migrations

import "embed"

// FS holds every NNNN_name.up.sql / .down.sql file.
//
//go:embed *.sql
var FS embed.FS
