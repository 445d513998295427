package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboard/switchboard/store"
	"github.com/switchboard/switchboard/store/storetest"
)

func TestHookFlowsCache(t *testing.T) {
	ctx := context.Background()
	db := storetest.Pool(t)
	m, err := store.CreateOwner(ctx, db, "cache@example.com", "x", "Acme")
	require.NoError(t, err)
	f, err := store.CreateFlow(ctx, db, m.WorkspaceID, "hook", []byte(`{"trigger":{"type":"webhook"},"steps":[]}`), true, nil)
	require.NoError(t, err)
	hooks := store.NewHookFlows(db, 300*time.Millisecond)

	got, err := hooks.Flow(ctx, f.WebhookToken)
	require.NoError(t, err)
	require.True(t, got.Enabled)

	// A change behind the store's back is seen only once the answer expires.
	_, err = db.Exec(ctx, `UPDATE flows SET name = 'renamed in SQL' WHERE id = $1`, f.ID)
	require.NoError(t, err)
	got, err = hooks.Flow(ctx, f.WebhookToken)
	require.NoError(t, err)
	require.Equal(t, "hook", got.Name, "answered from the cache")
	time.Sleep(350 * time.Millisecond)
	got, err = hooks.Flow(ctx, f.WebhookToken)
	require.NoError(t, err)
	require.Equal(t, "renamed in SQL", got.Name, "expired")

	// A change through the store is seen at once.
	require.NoError(t, store.SetFlowEnabled(ctx, db, m.WorkspaceID, f.ID, false))
	got, err = hooks.Flow(ctx, f.WebhookToken)
	require.NoError(t, err)
	require.False(t, got.Enabled)
	_, err = store.ListenForSample(ctx, db, m.WorkspaceID, f.ID, time.Minute)
	require.NoError(t, err)
	got, err = hooks.Flow(ctx, f.WebhookToken)
	require.NoError(t, err)
	require.NotNil(t, got.ListenUntil)
	require.NoError(t, store.DeleteFlow(ctx, db, m.WorkspaceID, f.ID))
	_, err = hooks.Flow(ctx, f.WebhookToken)
	require.True(t, errors.Is(err, store.ErrNotFound), "got %v", err)

	// Unknown tokens are answered, and cached, as not found.
	_, err = hooks.Flow(ctx, "no-such-token")
	require.True(t, errors.Is(err, store.ErrNotFound))
}
