package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func TestMigrateIsIdempotentAndComplete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.Pool(t)
	// The template was migrated already; migrating again changes nothing.
	require.NoError(t, store.Migrate(ctx, pool))
	require.NoError(t, store.Migrate(ctx, pool))
	require.NoError(t, store.SchemaCurrent(ctx, pool))

	for _, table := range []string{"river_job", "river_leader", "river_queue", "workspaces", "users", "memberships",
		"sessions", "api_tokens", "connections", "flows", "flow_versions", "events", "runs", "run_steps", "step_attempts"} {
		var exists bool
		require.NoError(t, pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists))
		require.True(t, exists, "table %s", table)
	}
}

func TestSchemaCurrentDetectsOldSchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.Pool(t)
	_, err := pool.Exec(ctx, `UPDATE schema_migrations SET version = 1`)
	require.NoError(t, err)
	err = store.SchemaCurrent(ctx, pool)
	require.ErrorContains(t, err, "switchboard migrate")
}

func TestCreateOwnerAndTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.Pool(t)
	hash, err := store.HashPassword("correct horse battery")
	require.NoError(t, err)
	m, err := store.CreateOwner(ctx, pool, "ada@example.com", hash, "Acme")
	require.NoError(t, err)
	require.Equal(t, store.RoleOwner, m.Role)

	_, err = store.CreateOwner(ctx, pool, "ADA@example.com", hash, "Other")
	require.ErrorIs(t, err, store.ErrConflict, "emails are unique case-insensitively")
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM workspaces`).Scan(&n))
	require.Equal(t, 1, n, "a refused owner leaves no half-written workspace")

	u, err := store.UserByEmail(ctx, pool, "Ada@Example.com")
	require.NoError(t, err)
	require.True(t, store.CheckPassword(u.PasswordHash, "correct horse battery"))
	require.False(t, store.CheckPassword(u.PasswordHash, "wrong horse battery"))

	tok, _, err := store.CreateToken(ctx, pool, m, "ci")
	require.NoError(t, err)
	got, err := store.MemberByToken(ctx, pool, tok)
	require.NoError(t, err)
	require.Equal(t, m.WorkspaceID, got.WorkspaceID)
	var clear bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_tokens WHERE position(convert_to($1, 'UTF8') in token_hash) > 0 OR prefix = $1)`, tok).Scan(&clear))
	require.False(t, clear, "tokens are stored hashed")

	_, err = store.MemberByToken(ctx, pool, tok+"x")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestSealer(t *testing.T) {
	t.Parallel()
	oldKey := make([]byte, 32)
	newKey := make([]byte, 32)
	newKey[0] = 1
	old, err := store.NewSealer(oldKey)
	require.NoError(t, err)
	sealed, kid := old.Seal([]byte("xoxb-secret"), []byte("conn-1"))
	require.NotContains(t, string(sealed), "xoxb-secret")

	rotated, err := store.NewSealer(newKey, oldKey)
	require.NoError(t, err)
	pt, err := rotated.Open(sealed, kid, []byte("conn-1"))
	require.NoError(t, err)
	require.Equal(t, "xoxb-secret", string(pt))
	_, err = rotated.Open(sealed, kid, []byte("conn-2"))
	require.Error(t, err, "a sealed value is bound to its row")
	_, err = store.NewSealer(make([]byte, 16))
	require.Error(t, err)
}
