package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchboard/switchboard/store"
)

const keysUsage = "usage: switchboard keys rotate [--old-key BASE64]... (the new key comes from SWITCHBOARD_SECRET_KEY or $SWITCHBOARD_DATA/secret.key; old keys may also come from SWITCHBOARD_OLD_SECRET_KEYS)"

// keysCmd runs `switchboard keys rotate`: it re-encrypts every connection's
// secrets with the current secret key, opening them with the previous keys.
func keysCmd(ctx context.Context, cfg config, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New(keysUsage)
	}
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// Keys are checked after parsing: the flag package would quote a bad
	// value in its error, and keys do not belong on a terminal or in a log.
	var flagged []string
	fs.Func("old-key", "a previous secret key, base64 (repeatable)", func(v string) error {
		flagged = append(flagged, v)
		return nil
	})
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("keys rotate: unexpected argument; %s", keysUsage)
	}
	var old [][]byte
	for i, v := range flagged {
		k, err := decodeKey(v)
		if err != nil {
			return fmt.Errorf("keys rotate: --old-key number %d %v", i+1, err)
		}
		old = append(old, k)
	}
	old = append(old, cfg.OldSecretKeys...)
	if len(old) == 0 {
		return errors.New("keys rotate: give the previous key with --old-key BASE64 or SWITCHBOARD_OLD_SECRET_KEYS (comma-separated)")
	}
	current, err := currentKey(cfg)
	if err != nil {
		return err
	}
	sealer, err := store.NewSealer(current, old...)
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}

	db, err := openDatabase(ctx, cfg, 4, newLogger(stderr, "warn"))
	if err != nil {
		return err
	}
	defer db.Close(context.Background())
	if err := store.SchemaCurrent(ctx, db.Pool); err != nil {
		return err
	}
	n, err := store.RotateSecrets(ctx, db.Pool, sealer)
	if err != nil {
		return fmt.Errorf("keys rotate: %w (re-encrypted %d connections before that; fix it and run the command again)", err, n)
	}
	fmt.Fprintf(stdout, "re-encrypted %d connections\n", n)
	return nil
}

// decodeKey reads a base64 32-byte key; its errors never repeat the value.
func decodeKey(v string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || len(k) != 32 {
		return nil, errors.New("must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)")
	}
	return k, nil
}

// currentKey is the key secrets are rotated to: SWITCHBOARD_SECRET_KEY, else
// the key file. Unlike the server it never generates one: rotating to a key
// nobody has seen would lock every connection away.
func currentKey(cfg config) ([]byte, error) {
	if cfg.SecretKey != nil {
		return cfg.SecretKey, nil
	}
	path := filepath.Join(cfg.DataDir, "secret.key")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("keys rotate: no new key: set SWITCHBOARD_SECRET_KEY (or write it to %s)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("keys rotate: %w", err)
	}
	k, err := decodeKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return k, nil
}
