// Command switchboard is the Switchboard automation server: one binary that
// serves the web UI and API, runs the River workers, migrates the database and
// manages users and tokens. See `switchboard help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "switchboard:", err)
		}
		os.Exit(1)
	}
}

// errUsage means the usage text was already printed.
var errUsage = errors.New("usage")

const usage = `Switchboard — a self-hosted automation server.

Usage: switchboard [command]

Commands:
  serve      migrate, then run the web server and the workers (default)
  web        run only the web server (scale-out)
  worker     run only the River workers (scale-out)
  migrate    apply all database migrations and exit
  admin create --email E --password P [--workspace W]
             create a user who owns a new workspace
  token create --email E [--name N]
             print a new API token for that user
  keys rotate [--old-key BASE64]...
             re-encrypt connection secrets with SWITCHBOARD_SECRET_KEY; old keys
             from --old-key or SWITCHBOARD_OLD_SECRET_KEYS (comma-separated)
  fakes [--addr 127.0.0.1:9900]
             serve fake Slack, Mailchimp, Segment, Mixpanel, PostHog, Jira and
             SMTP on loopback for trying flows out
  help       show this text

Configuration comes from the environment (DATABASE_URL, SWITCHBOARD_DATA,
SWITCHBOARD_ADDR, SWITCHBOARD_BASE_URL, SWITCHBOARD_SECRET_KEY,
SWITCHBOARD_EGRESS_ALLOW, SWITCHBOARD_WORKERS, SWITCHBOARD_MAX_BODY); see README.md.
`

// run is main without the process: it returns an error instead of exiting.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cfg, err := parseConfig(getenv)
	if err != nil {
		return err
	}
	switch cmd {
	case "serve":
		return serve(ctx, cfg, stderr, roleServe)
	case "web":
		return serve(ctx, cfg, stderr, roleWeb)
	case "worker":
		return serve(ctx, cfg, stderr, roleWorker)
	case "migrate":
		return migrateCmd(ctx, cfg, stdout, stderr)
	case "admin":
		return adminCmd(ctx, cfg, args, stdout, stderr)
	case "token":
		return tokenCmd(ctx, cfg, args, stdout, stderr)
	case "keys":
		return keysCmd(ctx, cfg, args, getenv, stdout, stderr)
	case "fakes":
		return fakesCmd(ctx, args, stdout, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q (see `switchboard help`)", cmd)
	}
}

// tuneGC trades memory the server has to spare for CPU it has not: its live
// heap is a few tens of MB, and collecting at 3x the live heap instead of 2x
// cuts the collector's work by about a third (7% more webhooks/s in make
// bench, 20 MB more peak RSS). A soft limit of 200 MiB makes the collector
// work harder instead of growing past it. GOGC and GOMEMLIMIT, when set, win.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(200 << 20)
	}
}
