package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Connection is a connector's settings in a workspace. Config holds the plain
// settings; the secrets are sealed in the database and only OpenConnection
// decrypts them.
type Connection struct {
	ID          uuid.UUID      `db:"id"`
	WorkspaceID uuid.UUID      `db:"workspace_id"`
	Connector   string         `db:"connector"`
	Name        string         `db:"name"`
	Config      map[string]any `db:"config"`
	// SecretKeys names the secrets (never their values). It is filled by
	// CreateConnection and OpenConnection only: reading the names means
	// decrypting, and listing should not decrypt anything.
	SecretKeys []string  `db:"-"`
	KeyID      string    `db:"key_id"`
	CreatedAt  time.Time `db:"created_at"`
	UpdatedAt  time.Time `db:"updated_at"`
}

const connectionColumns = `id, workspace_id, connector, name, config, coalesce(key_id, '') AS key_id, created_at, updated_at`

// CreateConnection stores a connection. The secrets are JSON-encoded and sealed
// with the sealer's current key, bound to the connection id so that a sealed
// value copied onto another row does not open.
func CreateConnection(ctx context.Context, db DB, sealer *Sealer, workspaceID uuid.UUID, connector, name string, config map[string]any, secrets map[string]string) (Connection, error) {
	if sealer == nil {
		return Connection{}, errors.New("store: create connection: no sealer")
	}
	if config == nil {
		config = map[string]any{}
	}
	if secrets == nil {
		secrets = map[string]string{}
	}
	id := NewID()
	sealed, keyID, err := sealSecrets(sealer, id, secrets)
	if err != nil {
		return Connection{}, fmt.Errorf("store: create connection: %w", err)
	}
	rows, _ := db.Query(ctx, `INSERT INTO connections (id, workspace_id, connector, name, config, secrets_sealed, key_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+connectionColumns,
		id, workspaceID, connector, name, config, sealed, keyID)
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Connection])
	if err != nil {
		return Connection{}, fmt.Errorf("store: create connection: %w", err)
	}
	c.SecretKeys = secretNames(secrets)
	return c, nil
}

// ListConnections returns the workspace's connections, oldest first. Their
// SecretKeys are nil.
func ListConnections(ctx context.Context, db DB, workspaceID uuid.UUID) ([]Connection, error) {
	rows, _ := db.Query(ctx, `SELECT `+connectionColumns+` FROM connections WHERE workspace_id = $1 ORDER BY created_at, id`, workspaceID)
	cs, err := pgx.CollectRows(rows, pgx.RowToStructByName[Connection])
	if err != nil {
		return nil, fmt.Errorf("store: list connections: %w", err)
	}
	return cs, nil
}

// GetConnection returns one connection of the workspace without its secrets
// (SecretKeys is nil), or ErrNotFound.
func GetConnection(ctx context.Context, db DB, workspaceID, id uuid.UUID) (Connection, error) {
	rows, _ := db.Query(ctx, `SELECT `+connectionColumns+` FROM connections WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Connection])
	if err != nil {
		return Connection{}, fmt.Errorf("store: get connection %s: %w", id, notFound(err))
	}
	return c, nil
}

// DeleteConnection deletes a connection of the workspace, or answers ErrNotFound.
func DeleteConnection(ctx context.Context, db DB, workspaceID, id uuid.UUID) error {
	tag, err := db.Exec(ctx, `DELETE FROM connections WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
	if err != nil {
		return fmt.Errorf("store: delete connection %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: delete connection %s: %w", id, ErrNotFound)
	}
	return nil
}

// WorkspaceConnections maps the id of every connection of the workspace to its
// connector key, for checking the connections a flow definition names.
func WorkspaceConnections(ctx context.Context, db DB, workspaceID uuid.UUID) (map[uuid.UUID]string, error) {
	rows, _ := db.Query(ctx, `SELECT id, connector FROM connections WHERE workspace_id = $1`, workspaceID)
	out := map[uuid.UUID]string{}
	var id uuid.UUID
	var connector string
	_, err := pgx.ForEachRow(rows, []any{&id, &connector}, func() error {
		out[id] = connector
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: workspace connections: %w", err)
	}
	return out, nil
}

// OpenConnection returns a connection with its decrypted secrets. Only step
// jobs and connection tests call it; the secrets must not reach logs, errors,
// job args, outputs or answers. A value sealed with a key the sealer lacks
// answers an error wrapping ErrUnknownKey.
func OpenConnection(ctx context.Context, db DB, sealer *Sealer, workspaceID, id uuid.UUID) (Connection, map[string]string, error) {
	if sealer == nil {
		return Connection{}, nil, errors.New("store: open connection: no sealer")
	}
	var sealed []byte
	rows, _ := db.Query(ctx, `SELECT `+connectionColumns+`, secrets_sealed FROM connections WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
	c, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (Connection, error) {
		var c Connection
		err := row.Scan(&c.ID, &c.WorkspaceID, &c.Connector, &c.Name, &c.Config, &c.KeyID, &c.CreatedAt, &c.UpdatedAt, &sealed)
		return c, err
	})
	if err != nil {
		return Connection{}, nil, fmt.Errorf("store: open connection %s: %w", id, notFound(err))
	}
	secrets, err := openSecrets(sealer, c.ID, sealed, c.KeyID)
	if err != nil {
		return Connection{}, nil, fmt.Errorf("store: open connection %s: %w", id, err)
	}
	c.SecretKeys = secretNames(secrets)
	return c, secrets, nil
}

// rotateBatch is how many connections RotateSecrets re-seals per transaction.
const rotateBatch = 100

// RotateSecrets re-seals, with the sealer's current key, the secrets of every
// connection (in all workspaces: this is an operator's command) sealed with
// another key. The sealer must also hold the keys they were sealed with. It
// works in batches, one transaction each, so a failure keeps the batches done
// before it; running it again finishes the job. It returns how many
// connections it re-sealed.
func RotateSecrets(ctx context.Context, db DB, sealer *Sealer) (int, error) {
	if sealer == nil {
		return 0, errors.New("store: rotate secrets: no sealer")
	}
	current := sealer.CurrentKeyID()
	total := 0
	after := uuid.Nil
	for {
		n, last, err := rotateSecretsBatch(ctx, db, sealer, current, after)
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, nil
		}
		after = last
	}
}

func rotateSecretsBatch(ctx context.Context, db DB, sealer *Sealer, current string, after uuid.UUID) (n int, last uuid.UUID, err error) {
	tx, err := beginTx(ctx, db)
	if err != nil {
		return 0, after, fmt.Errorf("store: rotate secrets: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	type sealedRow struct {
		ID     uuid.UUID `db:"id"`
		Sealed []byte    `db:"secrets_sealed"`
		KeyID  string    `db:"key_id"`
	}
	// Keyset order by id: every row is looked at once even if one fails to
	// re-seal, and FOR UPDATE keeps a concurrent rotation off the same rows.
	rows, _ := tx.Query(ctx, `SELECT id, secrets_sealed, coalesce(key_id, '') AS key_id FROM connections
		WHERE secrets_sealed IS NOT NULL AND key_id IS DISTINCT FROM $1 AND id > $2
		ORDER BY id LIMIT $3 FOR UPDATE`, current, after, rotateBatch)
	batch, err := pgx.CollectRows(rows, pgx.RowToStructByName[sealedRow])
	if err != nil {
		return 0, after, fmt.Errorf("store: rotate secrets: %w", err)
	}
	if len(batch) == 0 {
		return 0, after, nil
	}
	b := &pgx.Batch{}
	for _, r := range batch {
		plain, err := sealer.Open(r.Sealed, r.KeyID, r.ID[:])
		if err != nil {
			if errors.Is(err, ErrUnknownKey) {
				return 0, after, fmt.Errorf("store: rotate secrets: connection %s was sealed with key %s, which was not given as an old key", r.ID, r.KeyID)
			}
			return 0, after, fmt.Errorf("store: rotate secrets: connection %s: %w", r.ID, err)
		}
		resealed, keyID := sealer.Seal(plain, r.ID[:])
		clear(plain)
		b.Queue(`UPDATE connections SET secrets_sealed = $2, key_id = $3, updated_at = now() WHERE id = $1`, r.ID, resealed, keyID)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, after, fmt.Errorf("store: rotate secrets: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, after, fmt.Errorf("store: rotate secrets: commit: %w", err)
	}
	return len(batch), batch[len(batch)-1].ID, nil
}

// beginTx starts a transaction on db, or a nested one (a savepoint) when db
// already is a transaction.
func beginTx(ctx context.Context, db DB) (pgx.Tx, error) {
	b, ok := db.(interface {
		Begin(ctx context.Context) (pgx.Tx, error)
	})
	if !ok {
		return nil, errors.New("store: this DB cannot begin a transaction")
	}
	return b.Begin(ctx)
}

// sealSecrets seals the JSON of secrets, bound to the connection id.
func sealSecrets(sealer *Sealer, id uuid.UUID, secrets map[string]string) ([]byte, string, error) {
	plain, err := json.Marshal(secrets)
	if err != nil {
		return nil, "", fmt.Errorf("encode secrets: %w", err)
	}
	sealed, keyID := sealer.Seal(plain, id[:])
	clear(plain)
	return sealed, keyID, nil
}

// openSecrets reverses sealSecrets. A connection without sealed secrets has none.
func openSecrets(sealer *Sealer, id uuid.UUID, sealed []byte, keyID string) (map[string]string, error) {
	secrets := map[string]string{}
	if sealed == nil {
		return secrets, nil
	}
	plain, err := sealer.Open(sealed, keyID, id[:])
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	if err := json.Unmarshal(plain, &secrets); err != nil {
		// The message of a JSON error could quote the plaintext; say less.
		return nil, errors.New("store: sealed secrets are not a JSON object of text")
	}
	return secrets, nil
}

func secretNames(secrets map[string]string) []string {
	names := make([]string, 0, len(secrets))
	for k := range secrets {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}
