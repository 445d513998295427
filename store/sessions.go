package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SessionStorage keeps browser sessions in Postgres. It implements fiber.Storage
// for Fiber's session middleware; keys are stored as their SHA-256.
type SessionStorage struct {
	pool *pgxpool.Pool
}

// NewSessionStorage returns a session storage on pool.
func NewSessionStorage(pool *pgxpool.Pool) *SessionStorage { return &SessionStorage{pool: pool} }

func sessionKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

func (s *SessionStorage) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// Get returns the session data, or nil when absent or expired.
func (s *SessionStorage) Get(key string) ([]byte, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT data FROM sessions WHERE key_hash = $1 AND expires_at > now()`, sessionKey(key)).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: get session: %w", err)
	}
	return data, nil
}

// Set stores the session data for exp (0: 24 hours).
func (s *SessionStorage) Set(key string, val []byte, exp time.Duration) error {
	if exp <= 0 {
		exp = 24 * time.Hour
	}
	ctx, cancel := s.ctx()
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (key_hash, data, expires_at) VALUES ($1, $2, now() + $3::interval)
		ON CONFLICT (key_hash) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`,
		sessionKey(key), val, exp)
	if err != nil {
		return fmt.Errorf("store: set session: %w", err)
	}
	return nil
}

// Delete removes a session.
func (s *SessionStorage) Delete(key string) error {
	ctx, cancel := s.ctx()
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE key_hash = $1`, sessionKey(key)); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// Reset removes every session.
func (s *SessionStorage) Reset() error {
	ctx, cancel := s.ctx()
	defer cancel()
	_, err := s.pool.Exec(ctx, `DELETE FROM sessions`)
	return err
}

// Close does nothing: the pool belongs to the caller.
func (s *SessionStorage) Close() error { return nil }

// PruneSessions deletes expired sessions, returning how many.
func PruneSessions(ctx context.Context, db DB) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= now()`)
	if err != nil {
		return 0, fmt.Errorf("store: prune sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
