package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"strings"

	"github.com/switchboard/switchboard/store"
)

func migrateCmd(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	log := newLogger(stderr, "warn")
	db, err := openDatabase(ctx, cfg, 4, log)
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	if err := store.Migrate(ctx, db.Pool); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "migrations applied")
	return nil
}

func adminCmd(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: switchboard admin create --email E --password P [--workspace W]")
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the user's email (required)")
	password := fs.String("password", "", "the user's password, at least 10 characters (required)")
	workspace := fs.String("workspace", "", "the new workspace's name (default: from the email's domain)")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	if *email == "" || *password == "" {
		return fmt.Errorf("admin create: --email and --password are required")
	}
	if a, err := mail.ParseAddress(*email); err != nil || a.Address != *email {
		return fmt.Errorf("admin create: %q is not a valid email address", *email)
	}
	if len(*password) < store.MinPasswordLen {
		return fmt.Errorf("admin create: the password must have at least %d characters", store.MinPasswordLen)
	}
	if *workspace == "" {
		*workspace = (*email)[strings.LastIndex(*email, "@")+1:]
	}
	db, err := openDatabase(ctx, cfg, 4, newLogger(stderr, "warn"))
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	if err := store.Migrate(ctx, db.Pool); err != nil {
		return err
	}
	hash, err := store.HashPassword(*password)
	if err != nil {
		return err
	}
	m, err := store.CreateOwner(ctx, db.Pool, *email, hash, *workspace)
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("admin create: a user with email %s already exists", *email)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s, owner of workspace %q\n", m.Email, m.WorkspaceName)
	return nil
}

func tokenCmd(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: switchboard token create --email E [--name N]")
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the user the token acts as (required)")
	name := fs.String("name", "cli", "a name to recognise the token by")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	if *email == "" {
		return fmt.Errorf("token create: --email is required")
	}
	db, err := openDatabase(ctx, cfg, 4, newLogger(stderr, "warn"))
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	if err := store.SchemaCurrent(ctx, db.Pool); err != nil {
		return err
	}
	u, err := store.UserByEmail(ctx, db.Pool, *email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("token create: no user with email %s (create one with `switchboard admin create`)", *email)
	}
	if err != nil {
		return err
	}
	m, err := store.DefaultMembership(ctx, db.Pool, u.ID)
	if err != nil {
		return fmt.Errorf("token create: %s belongs to no workspace", *email)
	}
	tok, _, err := store.CreateToken(ctx, db.Pool, m, *name)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
