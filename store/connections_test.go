package store_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func testSealer(t *testing.T, current []byte, old ...[]byte) *store.Sealer {
	t.Helper()
	s, err := store.NewSealer(current, old...)
	require.NoError(t, err)
	return s
}

func workspace(t *testing.T, db store.DB, email string) uuid.UUID {
	t.Helper()
	m, err := store.CreateOwner(context.Background(), db, email, "x", "Acme "+email)
	require.NoError(t, err)
	return m.WorkspaceID
}

func TestConnectionsCRUD(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.Pool(t)
	sealer := testSealer(t, testKey(1))
	ws := workspace(t, pool, "ada@example.com")
	other := workspace(t, pool, "bob@example.com")

	c, err := store.CreateConnection(ctx, pool, sealer, ws, "slack", "Team Slack",
		map[string]any{"base_url": "https://slack.example.com/api"}, map[string]string{"token": "xoxb-very-secret"})
	require.NoError(t, err)
	require.Equal(t, "slack", c.Connector)
	require.Equal(t, []string{"token"}, c.SecretKeys)
	require.Equal(t, sealer.CurrentKeyID(), c.KeyID)
	require.Equal(t, "https://slack.example.com/api", c.Config["base_url"])
	require.False(t, c.CreatedAt.IsZero())

	var sealed []byte
	require.NoError(t, pool.QueryRow(ctx, `SELECT secrets_sealed FROM connections WHERE id = $1`, c.ID).Scan(&sealed))
	require.NotContains(t, string(sealed), "xoxb-very-secret")

	list, err := store.ListConnections(ctx, pool, ws)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, c.ID, list[0].ID)
	require.Nil(t, list[0].SecretKeys, "listing decrypts nothing")

	got, err := store.GetConnection(ctx, pool, ws, c.ID)
	require.NoError(t, err)
	require.Equal(t, "Team Slack", got.Name)

	opened, secrets, err := store.OpenConnection(ctx, pool, sealer, ws, c.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"token": "xoxb-very-secret"}, secrets)
	require.Equal(t, []string{"token"}, opened.SecretKeys)

	ids, err := store.WorkspaceConnections(ctx, pool, ws)
	require.NoError(t, err)
	require.Equal(t, map[uuid.UUID]string{c.ID: "slack"}, ids)

	// Another workspace sees nothing.
	list, err = store.ListConnections(ctx, pool, other)
	require.NoError(t, err)
	require.Empty(t, list)
	_, err = store.GetConnection(ctx, pool, other, c.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, _, err = store.OpenConnection(ctx, pool, sealer, other, c.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, store.DeleteConnection(ctx, pool, other, c.ID), store.ErrNotFound)
	ids, err = store.WorkspaceConnections(ctx, pool, other)
	require.NoError(t, err)
	require.Empty(t, ids)

	// A key the sealer lacks is named as such.
	_, _, err = store.OpenConnection(ctx, pool, testSealer(t, testKey(2)), ws, c.ID)
	require.ErrorIs(t, err, store.ErrUnknownKey)

	require.NoError(t, store.DeleteConnection(ctx, pool, ws, c.ID))
	require.ErrorIs(t, store.DeleteConnection(ctx, pool, ws, c.ID), store.ErrNotFound)
	_, err = store.GetConnection(ctx, pool, ws, c.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestSealedSecretsAreBoundToTheirRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.Pool(t)
	sealer := testSealer(t, testKey(1))
	ws := workspace(t, pool, "ada@example.com")
	a, err := store.CreateConnection(ctx, pool, sealer, ws, "slack", "A", nil, map[string]string{"token": "xoxb-a"})
	require.NoError(t, err)
	b, err := store.CreateConnection(ctx, pool, sealer, ws, "slack", "B", nil, map[string]string{"token": "xoxb-b"})
	require.NoError(t, err)

	_, err = pool.Exec(ctx, `UPDATE connections SET secrets_sealed = (SELECT secrets_sealed FROM connections WHERE id = $1) WHERE id = $2`, a.ID, b.ID)
	require.NoError(t, err)
	_, _, err = store.OpenConnection(ctx, pool, sealer, ws, b.ID)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "xoxb-a")
}

func TestRotateSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := storetest.Pool(t)
	keyA, keyB := testKey(0xA), testKey(0xB)
	sealerA := testSealer(t, keyA)
	ws := workspace(t, pool, "ada@example.com")
	other := workspace(t, pool, "bob@example.com")

	// More than one batch, across workspaces, plus one already on key B.
	const n = 230
	want := map[uuid.UUID]string{}
	for i := range n {
		w := ws
		if i%3 == 0 {
			w = other
		}
		tok := "xoxb-" + uuid.NewString()
		c, err := store.CreateConnection(ctx, pool, sealerA, w, "slack", "c", nil, map[string]string{"token": tok})
		require.NoError(t, err)
		want[c.ID] = tok
	}
	onB, err := store.CreateConnection(ctx, pool, testSealer(t, keyB), ws, "slack", "on B", nil, map[string]string{"token": "xoxb-b"})
	require.NoError(t, err)

	// Without the old key nothing is lost: the error names the key.
	_, err = store.RotateSecrets(ctx, pool, testSealer(t, keyB))
	require.ErrorContains(t, err, store.KeyID(keyA))

	count, err := store.RotateSecrets(ctx, pool, testSealer(t, keyB, keyA))
	require.NoError(t, err)
	require.Equal(t, n, count)

	onlyB := testSealer(t, keyB)
	for id, tok := range want {
		w := ws
		if _, err := store.GetConnection(ctx, pool, ws, id); err != nil {
			w = other
		}
		c, secrets, err := store.OpenConnection(ctx, pool, onlyB, w, id)
		require.NoError(t, err)
		require.Equal(t, tok, secrets["token"])
		require.Equal(t, store.KeyID(keyB), c.KeyID)
	}
	_, secrets, err := store.OpenConnection(ctx, pool, onlyB, ws, onB.ID)
	require.NoError(t, err)
	require.Equal(t, "xoxb-b", secrets["token"])

	count, err = store.RotateSecrets(ctx, pool, testSealer(t, keyB, keyA))
	require.NoError(t, err)
	require.Zero(t, count, "a second rotation has nothing to do")
}
