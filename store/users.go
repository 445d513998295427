package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Roles a member can have in a workspace.
const (
	RoleOwner  = "owner"
	RoleEditor = "editor"
	RoleViewer = "viewer"
)

// User is a person who signs in.
type User struct {
	ID           uuid.UUID `db:"id"`
	Email        string    `db:"email"`
	PasswordHash string    `db:"password_hash"`
	CreatedAt    time.Time `db:"created_at"`
}

// Member is a user seen from one workspace.
type Member struct {
	UserID        uuid.UUID `db:"user_id"`
	Email         string    `db:"email"`
	WorkspaceID   uuid.UUID `db:"workspace_id"`
	WorkspaceName string    `db:"workspace_name"`
	Role          string    `db:"role"`
}

// CanEdit reports whether the member may change flows and recover runs.
func (m Member) CanEdit() bool { return m.Role == RoleOwner || m.Role == RoleEditor }

// CreateOwner creates a user, a workspace and the owner membership linking them.
// An email already in use answers ErrConflict.
func CreateOwner(ctx context.Context, db DB, email, passwordHash, workspace string) (Member, error) {
	email = strings.TrimSpace(email)
	m := Member{UserID: NewID(), Email: email, WorkspaceID: NewID(), WorkspaceName: workspace, Role: RoleOwner}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, $3)`, m.UserID, email, passwordHash)
	b.Queue(`INSERT INTO workspaces (id, name) VALUES ($1, $2)`, m.WorkspaceID, workspace)
	b.Queue(`INSERT INTO memberships (workspace_id, user_id, role) VALUES ($1, $2, $3)`, m.WorkspaceID, m.UserID, RoleOwner)
	if err := db.SendBatch(ctx, b).Close(); err != nil {
		if isUniqueViolation(err) {
			return Member{}, ErrConflict
		}
		return Member{}, fmt.Errorf("store: create owner %s: %w", email, err)
	}
	return m, nil
}

// CountUsers counts all users (setup is open only while it is zero).
func CountUsers(ctx context.Context, db DB) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count users: %w", err)
	}
	return n, nil
}

// UserByEmail finds a user by email, case-insensitively.
func UserByEmail(ctx context.Context, db DB, email string) (User, error) {
	rows, _ := db.Query(ctx, `SELECT id, email, password_hash, created_at FROM users WHERE lower(email) = lower($1)`, strings.TrimSpace(email))
	u, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[User])
	if err != nil {
		return User{}, fmt.Errorf("store: user %s: %w", email, notFound(err))
	}
	return u, nil
}

const memberSelect = `SELECT m.user_id, u.email, m.workspace_id, w.name AS workspace_name, m.role
	FROM memberships m JOIN users u ON u.id = m.user_id JOIN workspaces w ON w.id = m.workspace_id`

// MemberOf returns the user's membership in a workspace.
func MemberOf(ctx context.Context, db DB, userID, workspaceID uuid.UUID) (Member, error) {
	rows, _ := db.Query(ctx, memberSelect+` WHERE m.user_id = $1 AND m.workspace_id = $2`, userID, workspaceID)
	m, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Member])
	if err != nil {
		return Member{}, fmt.Errorf("store: membership: %w", notFound(err))
	}
	return m, nil
}

// DefaultMembership returns the user's first workspace membership.
func DefaultMembership(ctx context.Context, db DB, userID uuid.UUID) (Member, error) {
	rows, _ := db.Query(ctx, memberSelect+` WHERE m.user_id = $1 ORDER BY m.created_at LIMIT 1`, userID)
	m, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Member])
	if err != nil {
		return Member{}, fmt.Errorf("store: membership: %w", notFound(err))
	}
	return m, nil
}

// ListMembers lists a workspace's members, owners first, then by email.
func ListMembers(ctx context.Context, db DB, workspaceID uuid.UUID) ([]Member, error) {
	rows, _ := db.Query(ctx, memberSelect+` WHERE m.workspace_id = $1
		ORDER BY m.role <> 'owner', lower(u.email)`, workspaceID)
	ms, err := pgx.CollectRows(rows, pgx.RowToStructByName[Member])
	if err != nil {
		return nil, fmt.Errorf("store: list members: %w", err)
	}
	return ms, nil
}
