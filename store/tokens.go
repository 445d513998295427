package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TokenPrefix starts every API token, so that a leaked one is easy to spot.
const TokenPrefix = "sb_"

// APIToken is a stored API token (without the secret).
type APIToken struct {
	ID          uuid.UUID  `db:"id"`
	WorkspaceID uuid.UUID  `db:"workspace_id"`
	UserID      uuid.UUID  `db:"user_id"`
	Name        string     `db:"name"`
	Prefix      string     `db:"prefix"`
	CreatedAt   time.Time  `db:"created_at"`
	LastUsedAt  *time.Time `db:"last_used_at"`
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// CreateToken makes a new API token for the member and returns it in clear text:
// the only time it is ever seen.
func CreateToken(ctx context.Context, db DB, m Member, name string) (string, APIToken, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", APIToken{}, err
	}
	tok := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	t := APIToken{ID: NewID(), WorkspaceID: m.WorkspaceID, UserID: m.UserID, Name: name, Prefix: tok[:len(TokenPrefix)+6]}
	err := db.QueryRow(ctx, `INSERT INTO api_tokens (id, workspace_id, user_id, name, token_hash, prefix)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING created_at`,
		t.ID, t.WorkspaceID, t.UserID, name, hashToken(tok), t.Prefix).Scan(&t.CreatedAt)
	if err != nil {
		return "", APIToken{}, fmt.Errorf("store: create token: %w", err)
	}
	return tok, t, nil
}

// MemberByToken authenticates an API token, returning the member it acts as.
func MemberByToken(ctx context.Context, db DB, tok string) (Member, error) {
	if !strings.HasPrefix(tok, TokenPrefix) {
		return Member{}, ErrNotFound
	}
	rows, _ := db.Query(ctx, memberSelect+` JOIN api_tokens t ON t.user_id = m.user_id AND t.workspace_id = m.workspace_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL`, hashToken(tok))
	m, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Member])
	if err != nil {
		return Member{}, fmt.Errorf("store: token: %w", notFound(err))
	}
	return m, nil
}

// ListTokens lists a workspace's live tokens.
func ListTokens(ctx context.Context, db DB, workspaceID uuid.UUID) ([]APIToken, error) {
	rows, _ := db.Query(ctx, `SELECT id, workspace_id, user_id, name, prefix, created_at, last_used_at
		FROM api_tokens WHERE workspace_id = $1 AND revoked_at IS NULL ORDER BY created_at`, workspaceID)
	ts, err := pgx.CollectRows(rows, pgx.RowToStructByName[APIToken])
	if err != nil {
		return nil, fmt.Errorf("store: list tokens: %w", err)
	}
	return ts, nil
}

// RevokeToken revokes a token of the workspace.
func RevokeToken(ctx context.Context, db DB, workspaceID, id uuid.UUID) error {
	tag, err := db.Exec(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL`, workspaceID, id)
	if err != nil {
		return fmt.Errorf("store: revoke token: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
