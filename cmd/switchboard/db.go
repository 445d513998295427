package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/localpg"
)

// managedDatabase is the database created inside the managed cluster.
const managedDatabase = "switchboard"

// database is an open pool and, for a managed Postgres this process started,
// the server to stop at the end.
type database struct {
	Pool   *pgxpool.Pool
	server *localpg.Server
}

// openDatabase connects to DATABASE_URL, or starts (or reuses) the managed
// Postgres in $SWITCHBOARD_DATA/pg.
func openDatabase(ctx context.Context, cfg config, maxConns int32, log *slog.Logger) (*database, error) {
	url := cfg.DatabaseURL
	db := &database{}
	if url == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("SWITCHBOARD_DATA: %w", err)
		}
		srv, err := localpg.Start(ctx, localpg.Options{Dir: filepath.Join(cfg.DataDir, "pg"), Logger: log})
		if err != nil {
			return nil, err
		}
		db.server = srv
		if err := ensureDatabase(ctx, srv.URL("postgres"), managedDatabase); err != nil {
			db.Close(ctx)
			return nil, err
		}
		url = srv.URL(managedDatabase)
	}
	pool, err := store.Open(ctx, url, maxConns)
	if err != nil {
		db.Close(ctx)
		return nil, err
	}
	db.Pool = pool
	return db, nil
}

// Close closes the pool and stops a managed Postgres this process started.
func (d *database) Close(ctx context.Context) {
	if d.Pool != nil {
		d.Pool.Close()
	}
	if d.server != nil {
		_ = d.server.Stop(ctx)
	}
}

func ensureDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("managed postgres: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "42P04") { // duplicate_database
		return fmt.Errorf("managed postgres: create database: %w", err)
	}
	return nil
}

// secretKey returns SWITCHBOARD_SECRET_KEY, or the key in
// $SWITCHBOARD_DATA/secret.key, generating it (0600) on first use.
func secretKey(cfg config, log *slog.Logger) ([]byte, error) {
	if cfg.SecretKey != nil {
		return cfg.SecretKey, nil
	}
	path := filepath.Join(cfg.DataDir, "secret.key")
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("%s: not a base64 32-byte key", path)
		}
		return key, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	key := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, key); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("SWITCHBOARD_DATA: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, os.ErrExist) { // another process won the race
		return secretKey(cfg, log)
	}
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	log.Warn("generated a secret key for connection secrets; back it up, or set SWITCHBOARD_SECRET_KEY in production", "path", path)
	return key, nil
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
